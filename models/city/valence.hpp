#pragma once
// Valence: whether an intergroup encounter is experienced as positive (DESIGN §3.5).
//   p+ = σ(β0 + βq(q−½) + βL(min(e_i,e_j)−½) + βA(A_i[g_j]−½) − βX·X_i − βT·T_ward)
// Each party draws its own experience from its own p+: contact surveys ask individuals about
// their own experience, and the 3:1 ratio the defaults target is a ratio of such reports.
#include "core/params.hpp"

#include <array>
#include <cmath>

namespace contactsim {

struct ValenceParams {
  double beta0;
  double beta_quality;
  double beta_language;
  double beta_warmth;
  double beta_anxiety;
  double beta_tension;
};

inline constexpr std::array<ParamSpec<ValenceParams>, 6> kValenceParams{{
    {"beta0", &ValenceParams::beta0, 1.2, -10, 10, "logit",
     "Calibrated so positive intergroup contact is ~3x as common as negative at the default "
     "calibration (Graf, Paolini & Rubin 2014, EJSP 44:536)"},
    {"beta_quality", &ValenceParams::beta_quality, 1.5, 0, 10, "logit per unit q",
     "Allport's (1954) optimal conditions raise the chance of a good encounter; Pettigrew & "
     "Tropp 2006 find larger effects under structured conditions. Magnitude illustrative"},
    {"beta_language", &ValenceParams::beta_language, 1.0, 0, 10, "logit per unit proficiency",
     "Keele evaluation 2022: language barriers behind misunderstandings in Normacot and "
     "Shelton. Magnitude illustrative"},
    {"beta_warmth", &ValenceParams::beta_warmth, 2.0, 0, 10, "logit per unit warmth",
     "Prior attitudes colour how an encounter is read (confirmation; Paolini et al. 2014). "
     "Magnitude illustrative"},
    {"beta_anxiety", &ValenceParams::beta_anxiety, 1.5, 0, 10, "logit per unit anxiety",
     "Intergroup anxiety makes encounters go badly (Stephan & Stephan 1985). Magnitude "
     "illustrative"},
    {"beta_tension", &ValenceParams::beta_tension, 1.0, 0, 10, "logit per unit tension",
     "Tension over anti-social behaviour is a barrier to positive interaction between communities "
     "(Keele 2022, 5.1); threat sours intergroup encounters (Stephan & Stephan 2000). Magnitude "
     "illustrative"},
}};

// q: venue contact quality; min_english: the lower proficiency of the pair; warmth: the
// experiencer's warmth toward the partner's group; anxiety: the experiencer's.
inline double probability_positive(const ValenceParams& p, double q, double min_english, double warmth,
                                   double anxiety, double tension = 0.0) {
  const double z = p.beta0 + p.beta_quality * (q - 0.5) + p.beta_language * (min_english - 0.5) +
                   p.beta_warmth * (warmth - 0.5) - p.beta_anxiety * anxiety - p.beta_tension * tension;
  return 1.0 / (1.0 + std::exp(-z));
}

}  // namespace contactsim
