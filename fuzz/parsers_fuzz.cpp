// Fuzz target for the parsers that read bytes from disk, peers or files:
// queue files (a damaged spool), server replies (the outbound client),
// EHLO capabilities, header blocks, From: values, directory CSV, IP ranges.
// None may crash or read out of bounds, whatever the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "directory/users_csv.hpp"
#include "envelope_roundtrip.hpp"
#include "mail/header_block.hpp"
#include "mail/mailbox_list.hpp"
#include "policy/ip_range.hpp"
#include "queue/spool_format.hpp"
#include "smtp/proto/client_commands.hpp"
#include "smtp/proto/reply_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  std::size_t content_size = 0;
  (void)bh::queue::parse_envelope_only(text, &content_size);
  auto message = bh::queue::parse_queue_file(text);
  if (message) {  // a file that parses must survive a round trip
    std::string again = bh::queue::format_queue_file(message->envelope, message->content);
    auto back = bh::queue::parse_queue_file(again);
    if (!back || back->content != message->content) __builtin_trap();
  }

  bh::smtp::ReplyParser parser;
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    std::string_view line = text.substr(start, end == std::string_view::npos ? end : end - start);
    lines.emplace_back(line);
    if (parser.add_line(line) != bh::smtp::ReplyParser::Status::incomplete) (void)parser.take();
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  (void)bh::smtp::parse_ehlo(lines);

  std::string content(text);
  bh::HeaderBlock block(content);
  for (const auto& field : block.fields()) (void)bh::parse_address_list(field.value);
  (void)bh::remove_header_fields(content, [](std::string_view name) {
    return bh::istarts_with_ascii(name, "X-MS-Exchange-");
  });

  (void)bh::directory::parse_users_csv(text, "fuzz.csv");
  (void)bh::IpRange::parse(text.substr(0, 64));

  // What the server accepts is written back by the client as one command.
  std::string_view first_line = text.substr(0, text.find('\n'));
  if (!bh::fuzz::mail_roundtrip_holds(first_line) || !bh::fuzz::rcpt_roundtrip_holds(first_line))
    __builtin_trap();
  return 0;
}
