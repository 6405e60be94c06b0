// How the gateway reads a render helper run (render_client): the helper's
// report and exit, the sandbox's verdict (time, CPU, memory, a crash), as
// an outcome with an enhanced status code. The helper is untrusted: its
// words are made printable and short before they reach a DSN or a log.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "connectors/fax/render_client.hpp"
#include "util/sandbox.hpp"

namespace bh::connectors::fax {

// Why a helper run did not produce a document, or nothing when it did.
// transient only when the helper could not do its work for reasons of
// this machine (a full disk) rather than of the document.
struct RunVerdict {
  bool ok = false;
  bool transient = false;
  render::RenderFailure failure;
  std::map<std::string, std::string> report;
};

RunVerdict judge(const SandboxResult& run, const RenderLimits& limits);

// At most kMaxReportedText bytes of bh::printable text (cut between code
// points, "..." appended when cut).
constexpr std::size_t kMaxReportedText = 500;
std::string reported_text(std::string_view text);

int report_number(const std::map<std::string, std::string>& report, const char* key);
double report_decimal(const std::map<std::string, std::string>& report, const char* key);

}  // namespace bh::connectors::fax
