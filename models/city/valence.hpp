#pragma once
// Valence: whether an intergroup encounter is experienced as positive (DESIGN §3.5).
//   p+ = σ(β0 + βq(q−½) + βL(min(e_i,e_j)−½) + βA(A_i[g_j]−½) − βX·X_i − βT·T_ward)
// Each party draws its own experience from its own p+: contact surveys ask individuals about
// their own experience, and the 3:1 ratio the defaults target is a ratio of such reports.
#include "models/city/valence_params.hpp"  // generated from valence.params.toml: ValenceParams, kValenceParams
#include "core/params.hpp"

#include <array>
#include <cmath>

namespace contactsim {

// q: venue contact quality; min_english: the lower proficiency of the pair; warmth: the
// experiencer's warmth toward the partner's group; anxiety: the experiencer's.
inline double probability_positive(const ValenceParams& p, double q, double min_english, double warmth,
                                   double anxiety, double tension = 0.0) {
  const double z = p.beta0 + p.beta_quality * (q - 0.5) + p.beta_language * (min_english - 0.5) +
                   p.beta_warmth * (warmth - 0.5) - p.beta_anxiety * anxiety - p.beta_tension * tension;
  return 1.0 / (1.0 + std::exp(-z));
}

}  // namespace contactsim
