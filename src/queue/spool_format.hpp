// The on-disk form of one queued message: a text envelope, the content, and
// an end record with the content length and a checksum over everything
// before it. A file without a valid end record is half-written or damaged
// and is never delivered.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mail/envelope.hpp"
#include "queue/checksum.hpp"
#include "util/result.hpp"

namespace bh::queue {

struct QueuedMessage {
  Envelope envelope;
  std::string content;
};

// Values on one line: space, '%', control and non-ASCII bytes as %XX; the
// empty string as "-" (and a literal "-" as %2D). Used by the done log too.
std::string encode_field(std::string_view value);
std::optional<std::string> decode_field(std::string_view value);

// Format 2, the one written (docs/queue.md): the body first, so that a
// session can stream it to disk as it arrives, then the header (edited by
// the policy at the end of DATA), the envelope records and an end record
// with the content length and a checksum of everything before it:
//
//   BRIDGEHEAD-QUEUE 2\n <body> <header> <records> header-size H\n content N\n end N HASH\n
//
// The content is header + body. A file without a valid end record is
// half-written or damaged and is never delivered.
inline constexpr std::string_view kQueueMagic = "BRIDGEHEAD-QUEUE 2\n";

// What follows the body: header, records and end record. sum has seen the
// magic and the body; body_size is the body's length.
std::string queue_file_tail(const Envelope& envelope, std::string_view header,
                            std::size_t body_size, StreamChecksum& sum);
// A whole file for content held in memory (all of it written as the body).
std::string format_queue_file(const Envelope& envelope, std::string_view content);

// Format 1 (still read): "BRIDGEHEAD-QUEUE 1\n", records through "content
// N\n", the content, "\nend N HASH\n". Kept for the files of older versions.
std::string serialize_envelope(const Envelope& envelope, std::size_t content_size);
std::string end_record(std::string_view head, std::string_view content);

// Parses and verifies a whole file.
Result<QueuedMessage> parse_queue_file(std::string_view bytes);
// Parses only the envelope (for listings); does not verify the content.
Result<Envelope> parse_envelope_only(std::string_view bytes, std::size_t* content_size);

}  // namespace bh::queue
