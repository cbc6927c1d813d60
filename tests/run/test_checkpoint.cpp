// Checkpoint and branch: a run restored from a checkpoint writes exactly what an uninterrupted
// run writes — with every mechanism on, for the checkpointed scenario and for counterfactuals
// branched from it — and incompatible scenarios or damaged files are refused with clear errors.
#include "core/config.hpp"
#include "core/h5.hpp"
#include "core/seal.hpp"
#include "core/recorder.hpp"
#include "models/mechanisms/programmes.hpp"
#include "models/run/checkpoint.hpp"
#include "models/run/simulation.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/support/errors.hpp"
#include "tests/support/records.hpp"
#include "tests/support/scenarios.hpp"
#include "tests/support/temp_dir.hpp"

using namespace contactsim;
using namespace contactsim::test;
namespace fs = std::filesystem;

namespace {

Date day(const char* iso) { return *Date::parse_iso(iso); }

// A small city (3% of Stoke's residents), monthly records; `extra` is appended TOML.
std::string small(const fs::path& base, const std::string& extra = "") {
  return small_city_text(base, extra, 0.03, "month");
}

Scenario scenario_of(const std::string& text) { return scenario_from_text(text, "checkpoint_test.toml"); }

// Every mechanism at work across a checkpoint (tests/data/checkpoint_every_mechanism.toml: every
// kind of timeline item, with work under way at the checkpoint).
std::string every_mechanism() { return test_data_text("checkpoint_every_mechanism.toml"); }

// Baseline and the community-centre cut (from 2021-04-01) over a short window.
const std::string kShortWindow = "[simulation]\nstart = 2020-10-01\n";

RunOptions options_until(Date until) {
  RunOptions options;
  options.threads = 1;  // results do not depend on it; one thread keeps a shared machine's tests quick
  options.until = until;
  return options;
}

// Runs to `until` recording to `output`; with `checkpoint`, saves one at the end of `at`.
void run(const std::string& scenario, Date until, const fs::path& output, std::optional<Date> at = std::nullopt,
         const fs::path& checkpoint = {}) {
  Simulation sim(scenario_of(scenario), options_until(until));
  if (at) sim.checkpoint_at(*at, checkpoint);
  Recorder recorder = Recorder::create(output, true);
  sim.attach(recorder);
  sim.run();
}

void run_from(const std::string& scenario, const fs::path& checkpoint, Date until, const fs::path& output) {
  Simulation sim(scenario_of(scenario), checkpoint, options_until(until));
  Recorder recorder = Recorder::create(output, true);
  sim.attach(recorder);
  sim.run();
}

class CheckpointTest : public ::testing::Test {
 protected:
  // One baseline checkpoint for the branching, compatibility and damage tests: the baseline run
  // only to its checkpoint's day (mid-month, so its last record there was forced by the end).
  static void SetUpTestSuite() {
    dir_ = new TempDir("contactsim_checkpoint");
    run(base(), kCheckpointDay, *dir_ / "base_to_checkpoint.h5", kCheckpointDay, base_checkpoint());
  }
  static void TearDownTestSuite() {
    delete dir_;
  }

  static std::string base(const std::string& extra = "") { return small("baseline.toml", kShortWindow + extra); }
  static std::string cut(const std::string& extra = "") {
    return small("cut_community_centres.toml", kShortWindow + extra);
  }
  static fs::path base_checkpoint() { return *dir_ / "base.checkpoint.h5"; }
  static fs::path path(const std::string& name) { return *dir_ / name; }

  static constexpr Date kCheckpointDay = Date::from_days(18701);  // 2021-03-15
  static constexpr Date kEnd = Date::from_days(18808);            // 2021-06-30
  static TempDir* dir_;
};

TempDir* CheckpointTest::dir_ = nullptr;

TEST_F(CheckpointTest, DatesOfTheSuite) {
  EXPECT_EQ(kCheckpointDay, day("2021-03-15"));
  EXPECT_EQ(kEnd, day("2021-06-30"));
}

// (a) Saved between days after D, restored into a fresh Simulation, run to E: the same records as
// an uninterrupted run to E, with every mechanism at work across the checkpoint. The restored
// run checkpoints again (a chain) and that restore matches too.
TEST_F(CheckpointTest, RestoredRunMatchesUninterruptedRunWithEveryMechanism) {
  const std::string scenario = small("youth_programme_targeted.toml", every_mechanism());
  const Date checkpoint_day = day("2021-08-04"), second_day = day("2021-09-10"), end = day("2021-10-31");
  run(scenario, end, path("every_uninterrupted.h5"));

  {
    Simulation sim(scenario_of(scenario), options_until(end));
    Recorder recorder = Recorder::create(path("every_first_part.h5"), true);
    sim.attach(recorder);
    sim.step(checkpoint_day - sim.start() + 1);
    ASSERT_EQ(sim.date(), checkpoint_day + 1);
    sim.save_checkpoint(path("every.checkpoint.h5"));
    ASSERT_NE(sim.link<ProgrammesPhase>("programmes"), nullptr);
    EXPECT_FALSE(sim.link<ProgrammesPhase>("programmes")->cohorts().empty()) << "a cohort should be under way at the checkpoint";
  }
  EXPECT_FALSE(fs::exists(path(".every.checkpoint.h5.tmp" + std::to_string(getpid())))) << "temporary file left";

  {
    Simulation sim(scenario_of(scenario), path("every.checkpoint.h5"), options_until(end));
    ASSERT_EQ(sim.restored_after(), checkpoint_day);
    EXPECT_EQ(sim.date(), checkpoint_day + 1);
    sim.checkpoint_at(second_day, path("every_second.checkpoint.h5"));
    Recorder recorder = Recorder::create(path("every_restored.h5"), true);
    sim.attach(recorder);
    sim.run();
  }
  expect_same_records(path("every_uninterrupted.h5"), path("every_restored.h5"));

  run_from(scenario, path("every_second.checkpoint.h5"), end, path("every_restored_twice.h5"));
  expect_same_records(path("every_uninterrupted.h5"), path("every_restored_twice.h5"));
}

// (b) Two counterfactuals branched from one baseline checkpoint taken before the cut starts:
// each matches its own uninterrupted run (and the cut does change things after the branch).
TEST_F(CheckpointTest, CounterfactualsBranchedFromOneCheckpointMatchTheirUninterruptedRuns) {
  run(base(), kEnd, path("base_uninterrupted.h5"));
  run(cut(), kEnd, path("cut_uninterrupted.h5"));
  run_from(base(), base_checkpoint(), kEnd, path("base_branch.h5"));
  run_from(cut(), base_checkpoint(), kEnd, path("cut_branch.h5"));
  expect_same_records(path("base_uninterrupted.h5"), path("base_branch.h5"));
  expect_same_records(path("cut_uninterrupted.h5"), path("cut_branch.h5"));

  const h5::File base_file = h5::File::open_read_only(path("base_branch.h5"));
  const h5::File cut_file = h5::File::open_read_only(path("cut_branch.h5"));
  EXPECT_NE(raw_bytes(base_file.open_group("series").open_dataset("venue_sessions")),
            raw_bytes(cut_file.open_group("series").open_dataset("venue_sessions")));
  EXPECT_EQ(cut_file.string_attribute("restored_after"), "2021-03-15");
}

// A branch may bring kinds of items the checkpointed run never had (here three, all after the
// checkpoint: tests/data/checkpoint_later_kinds.toml): their series hold zeros before it, as in
// the uninterrupted run.
TEST_F(CheckpointTest, BranchesMayAddKindsOfItemsTheCheckpointedRunLacked) {
  const std::string later = base(test_data_text("checkpoint_later_kinds.toml"));
  run(later, kEnd, path("later_uninterrupted.h5"));
  run_from(later, base_checkpoint(), kEnd, path("later_branch.h5"));
  expect_same_records(path("later_uninterrupted.h5"), path("later_branch.h5"));
}

// (c) Scenarios that do not continue the checkpointed history are refused, naming the difference.
TEST_F(CheckpointTest, IncompatibleScenariosAreRefusedNamingWhatDiffers) {
  const auto restore = [&](const std::string& scenario, RunOptions options = options_until(kEnd)) {
    return error_of<CheckpointError>([&] { Simulation sim(scenario_of(scenario), base_checkpoint(), options); });
  };
  std::string e = restore(small("baseline.toml", kShortWindow + "seed = 7\n"));
  EXPECT_NE(e.find("seed"), std::string::npos) << e;
  EXPECT_NE(e.find(base_checkpoint().string()), std::string::npos) << e;

  RunOptions other_seed = options_until(kEnd);
  other_seed.seed = 99;
  e = restore(base(), other_seed);
  EXPECT_NE(e.find("seed"), std::string::npos) << e;
  EXPECT_NE(e.find("99"), std::string::npos) << e;

  RunOptions other_replicate = options_until(kEnd);
  other_replicate.replicate = 3;
  e = restore(base(), other_replicate);
  EXPECT_NE(e.find("replicate"), std::string::npos) << e;

  e = restore(base("[[timeline]]\nkind = \"budget\"\ndate = 2021-02-01\nvenue_type = \"park\"\nchange = -0.5\n"));
  EXPECT_NE(e.find("timeline"), std::string::npos) << e;
  EXPECT_NE(e.find("2021-02-01"), std::string::npos) << e;

  // The same cut, but starting before the checkpoint: no longer a branch of its history.
  e = restore(small("baseline.toml", kShortWindow +
                                         "[[timeline]]\nkind = \"budget\"\ndate = 2021-03-01\nvenue_type = "
                                         "\"community_centre\"\nchange = -0.4\n"));
  EXPECT_NE(e.find("timeline"), std::string::npos) << e;

  e = error_of<CheckpointError>([&] {
    Simulation sim(scenario_of(small_city_text("baseline.toml", kShortWindow, 0.04, "month")), base_checkpoint(),
                   options_until(kEnd));
  });
  EXPECT_NE(e.find("population.scale"), std::string::npos) << e;

  e = restore(base("[mechanisms.valence]\nbeta0 = 1.5\n"));
  EXPECT_NE(e.find("mechanisms.valence.beta0"), std::string::npos) << e;

  e = restore(small("baseline.toml", "[simulation]\nstart = 2020-11-01\n"));
  EXPECT_NE(e.find("simulation.start"), std::string::npos) << e;

  e = restore(base(), options_until(kCheckpointDay));
  EXPECT_NE(e.find("end"), std::string::npos) << e;

  // A youth programme after the checkpoint is a fine branch in itself, but it adds a contact
  // column the checkpointed city lacks.
  e = restore(base("[[timeline]]\nkind = \"youth_programme\"\nstart = 2021-05-01\nend = 2021-12-31\nuptake = 0.1\n"));
  EXPECT_NE(e.find("venue_types"), std::string::npos) << e;
  EXPECT_NE(e.find("youth_programme"), std::string::npos) << e;

  // Later items of any kind are fine, including kinds the checkpointed run did not have.
  EXPECT_EQ(restore(base(test_data_text("checkpoint_later_items.toml"))), "");
}

// (d) Damaged or wrong files: a clear CheckpointError naming the file, never a crash.
TEST_F(CheckpointTest, DamagedFilesGiveClearErrors) {
  const auto restore = [&](const fs::path& file) {
    return error_of<CheckpointError>([&] { Simulation sim(scenario_of(base()), file, options_until(kEnd)); });
  };
  std::string e = restore(path("missing.h5"));
  EXPECT_NE(e.find("no such file"), std::string::npos) << e;

  {
    std::ofstream(path("text.h5")) << "not HDF5 at all\n";
  }
  e = restore(path("text.h5"));
  EXPECT_NE(e.find(path("text.h5").string()), std::string::npos) << e;
  EXPECT_EQ(e.find(kOtherError), std::string::npos) << e;

  e = restore(path("base_to_checkpoint.h5"));  // an output file, not a checkpoint
  EXPECT_NE(e.find("not a contactsim checkpoint"), std::string::npos) << e;

  const auto size = fs::file_size(base_checkpoint());
  fs::copy_file(base_checkpoint(), path("truncated.h5"));
  fs::resize_file(path("truncated.h5"), size / 2);
  e = restore(path("truncated.h5"));
  EXPECT_NE(e.find(path("truncated.h5").string()), std::string::npos) << e;
  EXPECT_NE(e.find("damaged: it has " + std::to_string(size / 2) + " bytes, " + std::to_string(size) +
                   " when written (truncated)"),
            std::string::npos)
      << e;

  // One flipped byte in the middle of an array's data: its checksum no longer matches.
  fs::copy_file(base_checkpoint(), path("flipped.h5"));
  haddr_t offset = HADDR_UNDEF;
  {
    const h5::File file = h5::File::open_read_only(path("flipped.h5"));
    const h5::Dataset tension = file.open_group("state/phases/tension").open_dataset("tension");
    offset = H5Dget_offset(tension.id());
  }
  ASSERT_NE(offset, HADDR_UNDEF);
  {
    std::fstream file(path("flipped.h5"), std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(offset) + 5);
    char byte = 0;
    file.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x5a);
    file.seekp(static_cast<std::streamoff>(offset) + 5);
    file.write(&byte, 1);
  }
  // The seal catches it before HDF5 reads anything ...
  e = restore(path("flipped.h5"));
  EXPECT_NE(e.find(path("flipped.h5").string() + ": damaged: its bytes no longer match the checksum in its seal"),
            std::string::npos)
      << e;
  // ... and with a seal made anew over the damage, the array's own checksum still does.
  seal_file(path("flipped.h5"), "checkpoint");
  e = restore(path("flipped.h5"));
  EXPECT_NE(e.find("/state/phases/tension/tension"), std::string::npos) << e;
  EXPECT_NE(e.find("checksum"), std::string::npos) << e;
}

// The seal is plain text in HDF5's user block: HDF5 readers skip it, `head -c 512` shows it.
TEST_F(CheckpointTest, SealIsReadableTextThatHDF5Skips) {
  std::ifstream in(base_checkpoint(), std::ios::binary);
  std::string seal(kSealBytes, '\0');
  in.read(seal.data(), static_cast<std::streamsize>(seal.size()));
  const std::string size = std::to_string(fs::file_size(base_checkpoint()));
  EXPECT_EQ(seal.rfind("contactsim sealed file 1\nkind checkpoint\nbytes " + size + "\nhash ", 0), 0u) << seal;
  const h5::File file = h5::File::open_read_only(base_checkpoint());
  EXPECT_EQ(file.string_attribute("format"), "contactsim-checkpoint-2");

  // A seal of another kind is refused as such.
  fs::copy_file(base_checkpoint(), path("other_kind.h5"));
  seal_file(path("other_kind.h5"), "ensemble");
  const std::string e = error_of<CheckpointError>(
      [&] { Simulation sim(scenario_of(base()), path("other_kind.h5"), options_until(kEnd)); });
  EXPECT_NE(e.find("not a contactsim checkpoint (its seal says it is a ensemble)"), std::string::npos) << e;
}

// The command line: --checkpoint-at writes <output>.checkpoint.h5 (nothing temporary left);
// --from-checkpoint continues into a new output with the whole history; an incompatible branch
// exits with 2 and writes nothing.
TEST_F(CheckpointTest, CommandLineCheckpointsAndBranches) {
  const fs::path scenario = path("cli_base.toml");
  std::ofstream(scenario) << small(scenarios_dir() / "baseline.toml", kShortWindow);
  const std::string cli = std::string(CONTACTSIM_CLI) + " run " + scenario.string() + " -q --threads 1 --until 2021-06-30 ";
  const fs::path full = path("cli_full.h5");
  ASSERT_EQ(std::system((cli + "-o " + full.string() + " --checkpoint-at 2021-03-15 > /dev/null").c_str()), 0);
  ASSERT_TRUE(fs::exists(path("cli_full.checkpoint.h5")));
  for (const auto& entry : fs::directory_iterator(dir_->path()))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();

  const fs::path refused = path("cli_refused.h5");
  const int status = std::system((cli + "-o " + refused.string() + " --seed 5 --from-checkpoint " +
                                  path("cli_full.checkpoint.h5").string() + " > /dev/null 2> " +
                                  path("cli_refused.txt").string())
                                     .c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status;
  EXPECT_FALSE(fs::exists(refused));
  const std::string text = read_file(path("cli_refused.txt"));
  EXPECT_NE(text.find("seed"), std::string::npos) << text;

  const fs::path branch = path("cli_branch.h5");
  ASSERT_EQ(std::system((cli + "-o " + branch.string() + " --from-checkpoint " + path("cli_full.checkpoint.h5").string() +
                         " > /dev/null")
                            .c_str()),
            0);
  expect_same_records(full, branch);
}

}  // namespace

namespace {

// Issue 16, D8: save_checkpoint refuses an existing file unless asked to overwrite (the CLI
// refuses one without --force); never replaces a FIFO or a directory; and its temporary, a
// planted link included, is never written through (D3).
TEST_F(CheckpointTest, SaveCheckpointRefusesAnExistingFileAndNeverFollowsItsTemporary) {
  Simulation sim(scenario_of(base()), options_until(kEnd));
  sim.step(3);
  const fs::path victim = path("victim.toml");
  std::ofstream(victim) << "precious scenario";
  const std::string refused = error_of<RecorderError>([&] { sim.save_checkpoint(victim); });
  EXPECT_NE(refused.find(victim.string() + ": output file exists"), std::string::npos) << refused;
  EXPECT_EQ(read_file(victim), "precious scenario");

  const fs::path fifo = path("checkpoint_fifo.h5");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(error_of<RecorderError>([&] { sim.save_checkpoint(fifo, true); }),
            fifo.string() + ": is a FIFO (named pipe), not an output file");
  EXPECT_TRUE(fs::is_fifo(fifo));

  const fs::path precious = path("precious.txt");
  std::ofstream(precious) << "precious";
  const fs::path saved = path("saved.checkpoint.h5");
  fs::create_symlink(precious, path(".saved.checkpoint.h5.tmp" + std::to_string(getpid())));
  sim.save_checkpoint(saved);
  EXPECT_EQ(read_file(precious), "precious");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(saved)));

  sim.step(1);
  sim.save_checkpoint(victim, true);  // asked to: replaced by a checkpoint
  EXPECT_NO_THROW(open_checkpoint(victim));
}

}  // namespace
