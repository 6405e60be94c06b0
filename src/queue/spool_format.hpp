// The on-disk form of one queued message: a text envelope, the content, and
// an end record with the content length and a checksum over everything
// before it. A file without a valid end record is half-written or damaged
// and is never delivered.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mail/envelope.hpp"
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

// Everything before the content ("... content N\n").
std::string serialize_envelope(const Envelope& envelope, std::size_t content_size);
// The end record for a file made of head + content.
std::string end_record(std::string_view head, std::string_view content);

// Parses and verifies a whole file.
Result<QueuedMessage> parse_queue_file(std::string_view bytes);
// Parses only the envelope (for listings); does not verify the content.
Result<Envelope> parse_envelope_only(std::string_view bytes, std::size_t* content_size);

}  // namespace bh::queue
