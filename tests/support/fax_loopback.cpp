// fax_loopback: sends a TIFF-F file from one spandsp fax terminal to another over simulated
// audio (no telephony) and writes what the answering side received. A test tool for the
// end-to-end fax test (tests/integration/test_fax_end_to_end.py), not part of the gateway.
//
//   fax_loopback --send in.tif --receive out.tif [--ecm] [--tsi ID] [--csi ID] [--max-seconds N]
//
// Prints key=value lines, one per side (side=send, side=receive), then a summary line.
// Exit status: 0 when both sides ended phase E with T30_ERR_OK and agree on the page count,
// 1 when the transfer failed, 2 on a usage error.
#include <spandsp.h>
#include <tiffio.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace {

constexpr int kSampleRate = 8000;
// Samples per step in each direction: 20 ms of audio, the usual telephony frame.
constexpr int kStepSamples = 160;
// T.30 limits the station identity (TSI/CSI) to 20 characters.
constexpr std::size_t kMaxIdentLength = 20;
// Simulated audio, not wall time: a few pages at 14400 bit/s take well under a minute.
constexpr int kDefaultMaxSeconds = 600;

struct Options {
  std::string send_file;
  std::string receive_file;
  bool ecm = false;
  std::string tsi = "+49 30 5550100";
  std::string csi = "+49 30 5550199";
  int max_seconds = kDefaultMaxSeconds;
};

// What phase E reported for one side.
struct SideResult {
  bool finished = false;
  int completion_code = -1;
};

void phase_e_reached(t30_state_t* /*t30*/, void* user_data, int completion_code) {
  auto* side = static_cast<SideResult*>(user_data);
  side->finished = true;
  side->completion_code = completion_code;
}

void print_usage() {
  std::fprintf(stderr,
               "usage: fax_loopback --send in.tif --receive out.tif [--ecm] [--tsi ID] [--csi ID]"
               " [--max-seconds N]\n");
}

std::optional<int> parse_positive(std::string_view text) {
  if (text.empty() || text.size() > 6) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value == 0) return std::nullopt;
  return value;
}

// Identities go onto the line as T.30 frames: printable ASCII only, at most 20 characters.
bool valid_ident(std::string_view ident) {
  if (ident.size() > kMaxIdentLength) return false;
  for (char c : ident)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

std::optional<Options> parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    bool has_value = i + 1 < argc;
    if (arg == "--ecm") {
      options.ecm = true;
    } else if (arg == "--send" && has_value) {
      options.send_file = argv[++i];
    } else if (arg == "--receive" && has_value) {
      options.receive_file = argv[++i];
    } else if (arg == "--tsi" && has_value) {
      options.tsi = argv[++i];
    } else if (arg == "--csi" && has_value) {
      options.csi = argv[++i];
    } else if (arg == "--max-seconds" && has_value) {
      auto seconds = parse_positive(argv[++i]);
      if (!seconds) {
        std::fprintf(stderr, "fax_loopback: --max-seconds needs a positive number\n");
        return std::nullopt;
      }
      options.max_seconds = *seconds;
    } else {
      std::fprintf(stderr, "fax_loopback: unexpected argument '%s'\n", argv[i]);
      return std::nullopt;
    }
  }
  if (options.send_file.empty() || options.receive_file.empty()) {
    std::fprintf(stderr, "fax_loopback: --send and --receive are required\n");
    return std::nullopt;
  }
  if (!valid_ident(options.tsi) || !valid_ident(options.csi)) {
    std::fprintf(stderr, "fax_loopback: --tsi/--csi: at most 20 printable ASCII characters\n");
    return std::nullopt;
  }
  return options;
}

// The remote identity is whatever the far end sent: quote it and escape anything unusual so
// one value stays on one line and a parser can split on spaces outside quotes.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c > 0x7e) {
      std::array<char, 5> hex{};
      std::snprintf(hex.data(), hex.size(), "\\x%02x", c);
      out += hex.data();
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

// spandsp reports resolutions in pixels per metre; fax people speak dpi (204x196, 204x98).
int pixels_per_metre_to_dpi(int per_metre) {
  return static_cast<int>(per_metre * 0.0254 + 0.5);
}

// One fax terminal with its T.30 engine configured for this run.
class Terminal {
 public:
  Terminal(bool calling_party, const std::string& ident, bool ecm)
      : fax_(fax_init(nullptr, calling_party ? 1 : 0)) {
    if (!fax_) return;
    // Silence between transmissions, so each step always yields a full frame of audio.
    fax_set_transmit_on_idle(fax_, 1);
    t30_ = fax_get_t30_state(fax_);
    t30_set_tx_ident(t30_, ident.c_str());
    t30_set_ecm_capability(t30_, ecm ? 1 : 0);
    if (ecm) {
      // T.6 is only allowed with ECM.
      t30_set_supported_compressions(t30_, T30_SUPPORT_T4_1D_COMPRESSION |
                                               T30_SUPPORT_T4_2D_COMPRESSION |
                                               T30_SUPPORT_T6_COMPRESSION);
    }
    t30_set_phase_e_handler(t30_, phase_e_reached, &result_);
  }
  ~Terminal() {
    if (fax_) fax_free(fax_);
  }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  bool ok() const { return fax_ != nullptr; }
  t30_state_t* t30() { return t30_; }
  const SideResult& result() const { return result_; }

  // Produces one frame of line audio; transmit-on-idle pads it with silence.
  void transmit(std::array<int16_t, kStepSamples>& frame) {
    int produced = fax_tx(fax_, frame.data(), kStepSamples);
    for (int i = produced; i < kStepSamples; ++i) frame[i] = 0;
  }
  void receive(std::array<int16_t, kStepSamples>& frame) {
    fax_rx(fax_, frame.data(), kStepSamples);
  }

  t30_stats_t statistics() {
    t30_stats_t stats{};
    t30_get_transfer_statistics(t30_, &stats);
    return stats;
  }

 private:
  fax_state_t* fax_ = nullptr;
  t30_state_t* t30_ = nullptr;
  SideResult result_;
};

void print_side(const char* side, Terminal& terminal, int pages) {
  const SideResult& result = terminal.result();
  t30_stats_t stats = terminal.statistics();
  const char* remote = t30_get_rx_ident(terminal.t30());
  std::printf(
      "side=%s finished=%d result=%d text=%s pages=%d bit_rate=%d ecm=%d resolution=%dx%d "
      "width=%d length=%d remote_ident=%s\n",
      side, result.finished ? 1 : 0, result.completion_code,
      quoted(result.finished ? t30_completion_code_to_str(result.completion_code)
                             : "no phase E before the time limit")
          .c_str(),
      pages, stats.bit_rate, stats.error_correcting_mode ? 1 : 0,
      pixels_per_metre_to_dpi(stats.x_resolution), pixels_per_metre_to_dpi(stats.y_resolution),
      stats.width, stats.length, quoted(remote ? remote : "").c_str());
}

}  // namespace

int main(int argc, char** argv) {
  auto options = parse_options(argc, argv);
  if (!options) {
    print_usage();
    return 2;
  }
  // libtiff warns on stderr about private tags of fax files; the result lines say what matters.
  TIFFSetWarningHandler(nullptr);

  Terminal sender(/*calling_party=*/true, options->tsi, options->ecm);
  Terminal receiver(/*calling_party=*/false, options->csi, options->ecm);
  if (!sender.ok() || !receiver.ok()) {
    std::fprintf(stderr, "fax_loopback: spandsp could not create the fax terminals\n");
    return 1;
  }
  t30_set_tx_file(sender.t30(), options->send_file.c_str(), -1, -1);
  t30_set_rx_file(receiver.t30(), options->receive_file.c_str(), -1);

  std::array<int16_t, kStepSamples> to_receiver{};
  std::array<int16_t, kStepSamples> to_sender{};
  const long max_steps = static_cast<long>(options->max_seconds) * kSampleRate / kStepSamples;
  long steps = 0;
  while (steps < max_steps && !(sender.result().finished && receiver.result().finished)) {
    sender.transmit(to_receiver);
    receiver.transmit(to_sender);
    receiver.receive(to_receiver);
    sender.receive(to_sender);
    ++steps;
  }

  int pages_sent = sender.statistics().pages_tx;
  int pages_received = receiver.statistics().pages_rx;
  print_side("send", sender, pages_sent);
  print_side("receive", receiver, pages_received);
  bool both_ok = sender.result().finished && receiver.result().finished &&
                 sender.result().completion_code == T30_ERR_OK &&
                 receiver.result().completion_code == T30_ERR_OK;
  bool pages_agree = pages_sent == pages_received && pages_sent > 0;
  std::printf("summary ok=%d pages_sent=%d pages_received=%d simulated_seconds=%ld\n",
              both_ok && pages_agree ? 1 : 0, pages_sent, pages_received,
              steps * kStepSamples / kSampleRate);
  return both_ok && pages_agree ? 0 : 1;
}
