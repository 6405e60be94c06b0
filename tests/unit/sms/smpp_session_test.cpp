// The SMPP session machine, proven by golden transcripts in
// tests/unit/sms/transcripts/*.txt. Lines of a transcript:
//   O: key=value ...   settings (system_id, password, system_type, window,
//                      response_timeout, enquire_link_interval in ms,
//                      first_sequence), before the first other line
//   E: action ...      the driver calls: connected; submit token=N <fields>;
//                      answer seq=N status=S; unbind; lost reason=...; tick;
//                      status (prints state, outstanding, can_submit, deadline)
//   < pdu | < raw HEX  the SMSC sends (a PDU line as smpp_session_transcript.hpp
//                      reads it, or raw octets)
//   T: +N              N ms pass; the machine is ticked at each deadline it
//                      names on the way ("= tick at +N ms"), as its driver does
// and, written by the runner from what the machine did:
//   > pdu              what the machine wrote (decoded with the codec)
//   ! event            its events
//   = ...              the runner's notes (ticks, status, submit's return)
// "#" lines and blank lines are kept. The runner rebuilds the file from the
// machine's behaviour; the test compares the two texts. With
// BH_UPDATE_SMPP_TRANSCRIPTS=1 the files are rewritten (and the test still
// fails where they differed: review the diff, the files are the spec).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/unit/sms/smpp_session_transcript.hpp"

using namespace bh::connectors::sms::smpp;
using namespace bh::test::smpp_text;

namespace {

const std::filesystem::path kTranscripts =
    std::filesystem::path(BH_TRANSCRIPT_DIR) / ".." / "sms" / "transcripts";

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::span<const std::uint8_t> octets(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// How the SMSC's octets reach received(): each "<" line in one call, or
// consecutive "<" lines as one stream cut at `cut` (0: not cut) or fed in
// `chunk`-octet pieces.
struct Feeding {
  bool grouped = false;
  std::size_t cut = 0;
  std::size_t chunk = 0;
};

struct Replay {
  std::string text;                  // the transcript as the machine ran it
  std::vector<std::string> written;  // every PDU written, in order
  std::vector<std::string> events;   // every event and "=" note, in order
  std::size_t longest_group = 0;     // octets of the longest run of "<" lines
};

class Runner {
 public:
  explicit Runner(Feeding feeding) : feeding_(feeding) {}

  Replay run(const std::string& golden) {
    std::istringstream lines(golden);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.starts_with("> ") || line.starts_with("! ") || line.starts_with("= ")) continue;
      if (line.empty() || line.starts_with("#")) {
        out_.text += line + "\n";
        continue;
      }
      if (!line.starts_with("< ")) flush();
      out_.text += line + "\n";
      if (line.starts_with("O: "))
        option(line.substr(3));
      else if (line.starts_with("< "))
        smsc(line.substr(2));
      else if (line.starts_with("E: "))
        action(line.substr(3));
      else if (line.starts_with("T: +"))
        advance(std::chrono::milliseconds(std::stoll(line.substr(4))));
      else
        note("ERROR: line not understood");
    }
    flush();
    return std::move(out_);
  }

 private:
  SessionMachine& machine() {
    if (!machine_) machine_.emplace(settings_);
    return *machine_;
  }

  void note(const std::string& text) {
    out_.text += "= " + text + "\n";
    out_.events.push_back(text);
  }

  long long at(Clock::time_point t) const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t - kStart).count();
  }

  // What the machine wrote and said since the last call.
  void collect() {
    std::string output = machine().take_output();
    std::vector<SessionEvent> events = machine().take_events();
    if (closed_ && (!output.empty() || !events.empty())) note("ERROR: activity after Closed");
    while (!output.empty()) {
      auto length = frame_length(octets(output));
      if (!length || !*length || **length > output.size()) {
        out_.text += "> undecodable: " + hex_text(output) + "\n";
        out_.written.push_back("undecodable");
        break;
      }
      auto decoded = decode(octets(output).first(**length));
      std::string text = std::holds_alternative<Pdu>(decoded)
                             ? pdu_text(std::get<Pdu>(decoded))
                             : "undecodable: " + std::get<DecodeError>(decoded).text;
      out_.text += "> " + text + "\n";
      out_.written.push_back(text);
      output.erase(0, **length);
    }
    for (const auto& event : events) {
      std::string text = event_text(event);
      out_.text += "! " + text + "\n";
      out_.events.push_back(text);
      if (std::holds_alternative<Closed>(event)) closed_ = true;
    }
  }

  void option(const std::string& text) {
    for (const auto& f : parse_fields(text).value_or(std::vector<Field>{})) {
      auto ms = [&] { return std::chrono::milliseconds(std::stoll(f.value)); };
      if (f.key == "system_id")
        settings_.system_id = f.value;
      else if (f.key == "password")
        settings_.password = f.value;
      else if (f.key == "system_type")
        settings_.system_type = f.value;
      else if (f.key == "window")
        settings_.window = std::stoul(f.value);
      else if (f.key == "response_timeout")
        settings_.response_timeout = ms();
      else if (f.key == "enquire_link_interval")
        settings_.enquire_link_interval = ms();
      else if (f.key == "first_sequence")
        settings_.first_sequence = std::stoul(f.value, nullptr, 0);
      else
        note("ERROR: unknown option " + f.key);
    }
  }

  void smsc(const std::string& text) {
    std::string bytes;
    if (text.starts_with("raw ")) {
      std::string digits = text.substr(4);
      std::erase(digits, ' ');
      bytes = unhex(digits);
    } else {
      auto pdu = parse_pdu(text);
      auto encoded = pdu ? encode(*pdu) : bh::Result<std::string>(pdu.error());
      if (!encoded) return note("ERROR: " + encoded.error().message);
      bytes = *encoded;
    }
    if (!feeding_.grouped) {
      machine().received(octets(bytes), now_);
      return collect();
    }
    group_ += bytes;
  }

  void flush() {
    if (group_.empty()) return;
    out_.longest_group = std::max(out_.longest_group, group_.size());
    std::span<const std::uint8_t> rest = octets(group_);
    while (!rest.empty()) {
      std::size_t piece = rest.size();
      if (feeding_.chunk != 0) piece = std::min(feeding_.chunk, rest.size());
      if (feeding_.cut != 0 && rest.size() == group_.size() && feeding_.cut < rest.size())
        piece = feeding_.cut;
      machine().received(rest.first(piece), now_);
      collect();
      rest = rest.subspan(piece);
    }
    group_.clear();
  }

  void action(const std::string& text) {
    auto fields = parse_fields(text).value_or(std::vector<Field>{});
    if (fields.empty()) return note("ERROR: empty action");
    const std::string& verb = fields[0].key;
    auto value = [&](const std::string& key) -> std::string {
      for (const auto& f : fields)
        if (f.key == key) return f.value;
      return {};
    };
    if (verb == "connected") {
      machine().connected(now_);
    } else if (verb == "submit") {
      ShortMessage message;
      for (std::size_t i = 1; i < fields.size(); ++i)
        if (fields[i].key != "token" && !set_message_field(message, fields[i]))
          return note("ERROR: submit field " + fields[i].key);
      std::uint32_t sequence = machine().submit(message, std::stoull(value("token")), now_);
      note(fmt::format("submit returned {}", sequence));
    } else if (verb == "answer") {
      auto status = parse_status(value("status"));
      if (!status) return note("ERROR: answer status");
      machine().answer_deliver(static_cast<std::uint32_t>(std::stoul(value("seq"))), *status, now_);
    } else if (verb == "unbind") {
      machine().unbind(now_);
    } else if (verb == "lost") {
      machine().connection_lost(value("reason"));
    } else if (verb == "tick") {
      machine().tick(now_);
    } else if (verb == "status") {
      static constexpr const char* kStates[] = {"idle", "binding", "bound", "unbinding", "closed"};
      auto deadline = machine().next_deadline();
      note(fmt::format("state={} outstanding={} can_submit={} next_deadline={}",
                       kStates[static_cast<int>(machine().state())], machine().outstanding(),
                       machine().can_submit() ? "yes" : "no",
                       deadline ? fmt::format("+{}", at(*deadline)) : "none"));
    } else {
      return note("ERROR: unknown action " + verb);
    }
    collect();
  }

  void advance(std::chrono::milliseconds duration) {
    const Clock::time_point target = now_ + duration;
    while (auto deadline = machine().next_deadline()) {
      if (*deadline > target) break;
      now_ = std::max(now_, *deadline);
      note(fmt::format("tick at +{}", at(now_)));
      machine().tick(now_);
      collect();
      if (auto next = machine().next_deadline(); next && *next <= now_) {
        note("ERROR: the deadline did not move");
        break;
      }
    }
    now_ = target;
  }

  static constexpr Clock::time_point kStart = Clock::time_point{} + std::chrono::hours(1);
  Feeding feeding_;
  SessionSettings settings_;
  std::optional<SessionMachine> machine_;
  Clock::time_point now_ = kStart;
  std::string group_;
  bool closed_ = false;
  Replay out_;
};

Replay replay(const std::string& golden, Feeding feeding = {}) {
  return Runner(feeding).run(golden);
}

std::vector<std::filesystem::path> transcripts() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(kTranscripts))
    if (entry.path().extension() == ".txt") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

class SmppSessionTranscript : public testing::TestWithParam<std::filesystem::path> {};

TEST_P(SmppSessionTranscript, MatchesGolden) {
  const std::string golden = read(GetParam());
  ASSERT_FALSE(golden.empty()) << GetParam();
  Replay actual = replay(golden);
  EXPECT_EQ(golden, actual.text) << "transcript " << GetParam();
  EXPECT_EQ(actual.text.find("= ERROR"), std::string::npos) << actual.text;
  if (std::getenv("BH_UPDATE_SMPP_TRANSCRIPTS") != nullptr && golden != actual.text)
    std::ofstream(GetParam(), std::ios::binary) << actual.text;
}

// The SMSC's octets in any split give the same PDUs written and the same
// events: every run of "<" lines as one stream, cut at every offset, and
// fed one octet at a time.
TEST_P(SmppSessionTranscript, SameAtEverySplit) {
  const std::string golden = read(GetParam());
  Replay per_line = replay(golden);
  Replay whole = replay(golden, Feeding{true, 0, 0});
  EXPECT_EQ(per_line.written, whole.written);
  EXPECT_EQ(per_line.events, whole.events);
  ASSERT_GT(whole.longest_group, 0u) << "a transcript without SMSC input";
  for (std::size_t cut = 1; cut < whole.longest_group; ++cut) {
    Replay split = replay(golden, Feeding{true, cut, 0});
    EXPECT_EQ(whole.written, split.written) << "cut at " << cut;
    EXPECT_EQ(whole.events, split.events) << "cut at " << cut;
  }
  Replay octetwise = replay(golden, Feeding{true, 0, 1});
  EXPECT_EQ(whole.written, octetwise.written);
  EXPECT_EQ(whole.events, octetwise.events);
}

INSTANTIATE_TEST_SUITE_P(Golden, SmppSessionTranscript, testing::ValuesIn(transcripts()),
                         [](const auto& info) { return info.param.stem().string(); });

TEST(SmppSessionFiles, TheTranscriptsAreThere) {
  // An empty folder would make the suites above pass without a test.
  EXPECT_GE(transcripts().size(), 10u) << kTranscripts;
}

}  // namespace
