// What an HTTP answer means for the recipients of a webhook delivery
// (README.md: "Results"). Pure, so every status is table-testable.
#pragma once

#include <string>
#include <string_view>

#include "connectors/connector.hpp"

namespace bh::connectors::webhook {

struct HttpAnswer {
  unsigned status = 0;
  std::string_view reason;  // the reason phrase, as the server sent it
  std::string_view body;    // at most what was read (possibly cut short)
};

// pending_possible: callbacks are configured and the gateway can keep
// pending recipients; only then does a 202 with {"id": ...} become pending.
RecipientResult classify_answer(const HttpAnswer& answer, bool pending_possible,
                                std::string_view host);

// A bounded excerpt of text from a peer, safe for a log line and a DSN:
// white space runs as one space, unsafe bytes as \xHH, at most max bytes
// of input, "..." when cut.
std::string excerpt(std::string_view text, std::size_t max = 200);

// A usable pending reference: 1 to 200 bytes of printable ASCII.
bool valid_reference(std::string_view reference);

}  // namespace bh::connectors::webhook
