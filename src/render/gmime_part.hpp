// GMime helpers shared by the fax render helper (render/mime_document.cpp,
// in bh_render) and the gateway's SMS text of a mail
// (connectors/sms/sms_text.cpp, in bh_io): header-only, because the two
// link GMime into different libraries and neither links the other.
#pragma once

#include <gmime/gmime.h>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <mutex>
#include <string>

#include "render/gobject_ptr.hpp"

namespace bh::render {

inline void init_gmime_once() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

// The part's MIME type in lower case ("text/plain" when it has none).
inline std::string mime_type_of(GMimeObject* object) {
  GMimeContentType* type = g_mime_object_get_content_type(object);
  if (!type) return "text/plain";
  char* text = g_mime_content_type_get_mime_type(type);
  std::string result = text ? text : "application/octet-stream";
  g_free(text);
  for (char& c : result)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return result;
}

// The content of a leaf part with its transfer encoding (base64,
// quoted-printable, uuencode) undone, through `filter` when given (a
// charset conversion): at most max_bytes of the result. The part is read
// block by block and reading stops at max_bytes, so a huge part costs
// memory for what is kept only (g_mime_data_wrapper_write_to_stream would
// decode all of it into memory first).
inline std::string decoded_part_bytes(
    GMimePart* part, GMimeFilter* filter,
    std::size_t max_bytes = std::numeric_limits<std::size_t>::max()) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (!content) return {};
  GMimeStream* source = g_mime_data_wrapper_get_stream(content);
  if (!source || g_mime_stream_reset(source) == -1) return {};
  GPtr<GMimeStream> stream(g_mime_stream_filter_new(source));
  GMimeStreamFilter* filtered = GMIME_STREAM_FILTER(stream.get());
  switch (GMimeContentEncoding encoding = g_mime_data_wrapper_get_encoding(content)) {
    case GMIME_CONTENT_ENCODING_BASE64:
    case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
    case GMIME_CONTENT_ENCODING_UUENCODE: {
      GPtr<GMimeFilter> decode(g_mime_filter_basic_new(encoding, FALSE));
      g_mime_stream_filter_add(filtered, decode.get());  // the stream holds its reference
      break;
    }
    default:
      break;
  }
  if (filter) g_mime_stream_filter_add(filtered, filter);

  std::string out;
  char block[4096];
  gint64 stalled_at = -1;  // source position of the last empty read
  while (out.size() < max_bytes) {
    ssize_t n = g_mime_stream_read(stream.get(), block, sizeof block);
    if (n < 0) break;
    if (n == 0) {
      // A block the filters turn into nothing (base64 whitespace, a
      // charset's partial sequence) reads as 0 too: go on while the
      // source still moves.
      gint64 at = g_mime_stream_tell(source);
      if (g_mime_stream_eos(stream.get()) || at == stalled_at) break;
      stalled_at = at;
      continue;
    }
    out.append(block, std::min(static_cast<std::size_t>(n), max_bytes - out.size()));
  }
  g_mime_stream_reset(source);  // as GMime leaves it for the next reader
  return out;
}

}  // namespace bh::render
