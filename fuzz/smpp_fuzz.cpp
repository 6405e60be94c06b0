// Fuzz target: arbitrary bytes as an SMPP stream from the SMSC.
// 1. The codec: the bytes are cut into frames by frame_length and each is
//    decoded; what decodes as the spec has it must encode, and its
//    encoding must decode to the same PDU and encode to the same octets
//    (one canonical form). What decodes leniently (an irregularity noted:
//    only responses and deliver_sm) need not encode, but when it does the
//    same holds without the note. What does not decode must say why, with
//    the header's ids; a known response with a whole header always decodes.
// 2. The session: the same bytes, in chunks, fed to a SessionMachine that
//    is bound, submits and answers what it is delivered; every octet it
//    writes must be a whole PDU that decodes.
//
// Input: byte 0 = options (chunk sizes, time steps), then the stream.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "connectors/sms/smpp_pdu.hpp"
#include "connectors/sms/smpp_session.hpp"

namespace smpp = bh::connectors::sms::smpp;

namespace {

std::span<const std::uint8_t> octets(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::uint32_t header_word(std::span<const std::uint8_t> frame, std::size_t at) {
  return (std::uint32_t{frame[at]} << 24) | (std::uint32_t{frame[at + 1]} << 16) |
         (std::uint32_t{frame[at + 2]} << 8) | std::uint32_t{frame[at + 3]};
}

// The responses the codec knows (a _resp of a known request, generic_nack).
bool known_response(std::uint32_t id) {
  namespace command = smpp::command;
  if (id == command::generic_nack) return true;
  if ((id & command::response_bit) == 0) return false;
  switch (id & ~command::response_bit) {
    case command::bind_receiver:
    case command::bind_transmitter:
    case command::bind_transceiver:
    case command::query_sm:
    case command::submit_sm:
    case command::deliver_sm:
    case command::unbind:
    case command::replace_sm:
    case command::cancel_sm:
    case command::enquire_link:
    case command::submit_multi:
    case command::data_sm:
      return true;
    default:
      return false;
  }
}

void check_frame(std::span<const std::uint8_t> frame) {
  auto result = smpp::decode(frame);
  if (auto* error = std::get_if<smpp::DecodeError>(&result)) {
    if (error->text.empty()) __builtin_trap();
    if (frame.size() >= smpp::kHeaderSize &&
        (error->command_id != header_word(frame, 4) || error->sequence != header_word(frame, 12)))
      __builtin_trap();
    // A response is never refused for its body (it would lose the answer).
    if (frame.size() >= smpp::kHeaderSize && known_response(error->command_id)) __builtin_trap();
    return;
  }
  smpp::Pdu pdu = std::get<smpp::Pdu>(result);
  const bool lenient = !pdu.irregularity.empty();
  if (lenient && (pdu.command_id & smpp::command::response_bit) == 0 &&
      pdu.command_id != smpp::command::deliver_sm)
    __builtin_trap();  // a request other than deliver_sm is strict
  auto encoded = smpp::encode(pdu);
  if (!encoded) {
    if (lenient) return;
    __builtin_trap();  // decode accepted as regular what encode refuses
  }
  pdu.irregularity.clear();
  auto again = smpp::decode(octets(*encoded));
  const auto* back = std::get_if<smpp::Pdu>(&again);
  if (!back || !(*back == pdu)) __builtin_trap();
  auto twice = smpp::encode(*back);
  if (!twice || *twice != *encoded) __builtin_trap();
  auto frame_size = smpp::frame_length(octets(*encoded));
  if (!frame_size || !frame_size->has_value() || **frame_size != encoded->size()) __builtin_trap();
}

void check_codec(std::span<const std::uint8_t> stream) {
  (void)smpp::decode(stream);  // the whole input as one frame, usually mismatched
  while (!stream.empty()) {
    auto length = smpp::frame_length(stream);
    if (!length) return;  // unframeable: the session closes here
    if (!length->has_value()) {
      if (stream.size() >= 4) __builtin_trap();
      return;
    }
    std::size_t size = **length;
    if (size < smpp::kHeaderSize || size > smpp::kMaxPduSize) __builtin_trap();
    if (size > stream.size()) {
      // Incomplete: decoding what there is must fail, not read past it.
      if (std::holds_alternative<smpp::Pdu>(smpp::decode(stream))) __builtin_trap();
      return;
    }
    check_frame(stream.first(size));
    stream = stream.subspan(size);
  }
}

// Everything the session writes is whole PDUs that decode as the spec has them.
void check_output(const std::string& out) {
  std::span<const std::uint8_t> rest = octets(out);
  while (!rest.empty()) {
    auto length = smpp::frame_length(rest);
    if (!length || !length->has_value() || **length > rest.size()) __builtin_trap();
    auto written = smpp::decode(rest.first(**length));
    const auto* pdu = std::get_if<smpp::Pdu>(&written);
    if (!pdu || !pdu->irregularity.empty()) __builtin_trap();
    rest = rest.subspan(**length);
  }
}

void run_session(std::uint8_t options, std::span<const std::uint8_t> stream) {
  smpp::SessionSettings settings;
  settings.system_id = "bridgehead";
  settings.password = "secret";
  settings.window = 1 + options % 4;
  settings.response_timeout = std::chrono::milliseconds(2000);
  settings.enquire_link_interval = std::chrono::milliseconds(1000);
  smpp::SessionMachine machine(settings);
  auto now = smpp::Clock::time_point{} + std::chrono::hours(1);
  machine.connected(now);
  check_output(machine.take_output());

  smpp::ShortMessage message;
  message.source = {1, 1, "4930123456"};
  message.destination = {1, 1, "4915112345678"};
  message.registered_delivery = 1;
  message.short_message = "hello";
  std::uint64_t token = 0;

  const std::size_t chunk = 1 + (options >> 2) % 64;
  const auto step = std::chrono::milliseconds(100 * ((options >> 4) % 16));
  std::size_t pos = 0;
  while (pos < stream.size() && machine.state() != smpp::SessionState::closed) {
    std::size_t n = std::min(chunk, stream.size() - pos);
    machine.received(stream.subspan(pos, n), now);
    pos += n;
    for (auto& event : machine.take_events()) {
      if (auto* delivered = std::get_if<smpp::Delivered>(&event))
        machine.answer_deliver(delivered->sequence,
                               (options & 1) ? smpp::status::ok : smpp::status::temporary_app_error,
                               now);
    }
    if (machine.can_submit()) (void)machine.submit(message, ++token, now);
    now += step;
    machine.tick(now);
    check_output(machine.take_output());
    (void)machine.next_deadline();
  }
  if (options & 2)
    machine.unbind(now);
  else
    machine.connection_lost("fuzz: end of input");
  now += std::chrono::seconds(5);
  machine.tick(now);
  check_output(machine.take_output());
  (void)machine.take_events();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::span<const std::uint8_t> stream(data + 1, size - 1);
  check_codec(stream);
  run_session(data[0], stream);
  return 0;
}
