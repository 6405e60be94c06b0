// libtiff reports problems through handlers; these collect them per TIFF
// handle (libtiff 4.5's TIFFOpenOptions), so messages end up in the
// Error that the caller returns instead of on stderr, and concurrent
// handles do not share a global handler.
#pragma once

#include <tiffio.h>

#include <string>

namespace bh::render {

struct TiffMessages {
  std::string errors;    // "module: text; module: text"
  std::string warnings;  // kept for the log; never fatal by themselves
};

// Options with handlers that append to `messages` (owned by the caller,
// alive as long as the TIFF handle). Free with TIFFOpenOptionsFree.
// max_single_alloc: the largest buffer libtiff may allocate at once (0: its default).
TIFFOpenOptions* tiff_options_collecting(TiffMessages& messages, tmsize_t max_single_alloc);

// "what: <libtiff's errors>" or just "what".
std::string tiff_error_text(const std::string& what, const TiffMessages& messages);

}  // namespace bh::render
