// Why a document could not become fax pages: an enhanced status code for
// the DSN and a text that names the part ("part 3 (application/zip,
// \"report.zip\"): attachments of this type cannot be faxed"). Permanent:
// sending the same mail again fails the same way.
#pragma once

#include <string>

namespace bh::render {

struct RenderFailure {
  std::string
      status;  // "5.6.1" unsupported or undecodable content, "5.3.4" too many pages or too big
  std::string text;
};

}  // namespace bh::render
