// The gateway's own count of the pages in a fax TIFF the render helper
// wrote (render_client): the helper is untrusted, so its reported page
// count and its page limit are checked against the file itself before the
// fax is submitted. A small, bounded walk of the TIFF's IFD chain (no
// libtiff in the gateway): the header ("II" or "MM", 42), each IFD's entry
// count and next-IFD offset inside the file, no IFD visited twice, at most
// max_pages IFDs, and every page 1728 pels wide (ImageWidth), the width of
// every fax page the helper makes.
#pragma once

#include <filesystem>

#include "util/result.hpp"

namespace bh::connectors::fax {

// Fax pages are 1728 pels wide (ITU-T T.4, A4 and Letter at every resolution).
constexpr unsigned kFaxPageWidth = 1728;
// More entries than any fax page has (the helper writes about 20).
constexpr unsigned kMaxTiffEntries = 512;

// The number of pages; an error when the file is not such a TIFF, has
// more than max_pages pages (the error says so: "more than N pages"), or
// a page of another width.
Result<int> count_fax_pages(const std::filesystem::path& tiff, int max_pages);

}  // namespace bh::connectors::fax
