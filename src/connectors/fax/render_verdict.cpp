#include "connectors/fax/render_verdict.hpp"

#include <signal.h>

#include <cstdlib>
#include <cstring>

#include "render/helper_report.hpp"
#include "util/printable.hpp"

namespace bh::connectors::fax {
namespace {

bool valid_permanent_status(const std::string& status) {
  // 5.x.y with one to three digits each; anything else from the helper is replaced.
  if (status.size() < 5 || status.size() > 9 || status.compare(0, 2, "5.") != 0) return false;
  int dots = 0;
  for (std::size_t i = 2; i < status.size(); ++i) {
    if (status[i] == '.') {
      if (++dots > 1 || status[i - 1] == '.') return false;
    } else if (status[i] < '0' || status[i] > '9') {
      return false;
    }
  }
  return dots == 1 && status.back() != '.';
}

std::string mib(std::uint64_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

bool mentions_memory(const std::string& stderr_tail) {
  for (const char* hint : {"bad_alloc", "out of memory", "Out of memory", "failed to allocate",
                           "Cannot allocate memory", "memory exhausted"}) {
    if (stderr_tail.find(hint) != std::string::npos) return true;
  }
  return false;
}

// Code that does not check malloc's result (in the libraries the helper
// uses) dies of SIGSEGV when the address space limit is reached, without a
// word on stderr; a crash this close to the limit is taken for that.
bool near_memory_limit(const SandboxResult& run, const RenderLimits& limits) {
  if (limits.memory_bytes == 0) return false;
  const std::uint64_t peak = static_cast<std::uint64_t>(run.max_rss_kib) * 1024;
  return peak >= limits.memory_bytes / 4 * 3;
}

}  // namespace

std::string reported_text(std::string_view text) {
  std::string out;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t length = utf8_sequence(text, pos);
    if (length == 0) length = 1;  // an invalid byte: escaped on its own
    const std::string piece = printable(text.substr(pos, length));
    if (out.size() + piece.size() > kMaxReportedText) return out + "...";
    out += piece;
    pos += length;
  }
  return out;
}

int report_number(const std::map<std::string, std::string>& report, const char* key) {
  auto it = report.find(key);
  if (it == report.end()) return 0;
  return std::atoi(it->second.c_str());
}

double report_decimal(const std::map<std::string, std::string>& report, const char* key) {
  auto it = report.find(key);
  if (it == report.end()) return 0;
  return std::strtod(it->second.c_str(), nullptr);
}

RunVerdict judge(const SandboxResult& run, const RenderLimits& limits) {
  RunVerdict verdict;
  verdict.report = render::parse_report(run.stdout_text);
  auto field = [&](const char* key) {
    auto it = verdict.report.find(key);
    return it == verdict.report.end() ? std::string() : it->second;
  };
  const std::string limit_status = "5.3.4";
  if (run.timed_out) {
    verdict.failure = {limit_status, "the render helper exceeded its time limit of " +
                                         std::to_string(limits.wall.count()) + " s"};
  } else if (run.cpu_exceeded) {
    verdict.failure = {limit_status, "the render helper exceeded its CPU time limit of " +
                                         std::to_string(limits.cpu.count()) + " s"};
  } else if (run.signal != 0) {
    if (mentions_memory(run.stderr_tail) || near_memory_limit(run, limits)) {
      verdict.failure = {limit_status, "the render helper exceeded its memory limit of " +
                                           mib(limits.memory_bytes) + " (signal " +
                                           std::to_string(run.signal) + ")"};
    } else {
      verdict.failure = {"5.6.1", "the render helper crashed (signal " +
                                      std::to_string(run.signal) + ", " + ::strsignal(run.signal) +
                                      ")"};
    }
  } else if (run.exit_code == 0 && field("result") == "ok") {
    verdict.ok = true;
  } else if (run.exit_code == 1 && field("result") == "failed") {
    const std::string status = field("status");
    verdict.failure = {valid_permanent_status(status) ? status : "5.6.1",
                       reported_text(field("text"))};
    if (verdict.failure.text.empty()) verdict.failure.text = "the document cannot be faxed";
  } else if (run.exit_code == 2 && field("transient") == "yes") {
    verdict.transient = true;
    verdict.failure = {"4.3.0", "the render helper failed: " + reported_text(field("text"))};
  } else if (mentions_memory(run.stderr_tail)) {
    verdict.failure = {
        limit_status, "the render helper exceeded its memory limit of " + mib(limits.memory_bytes)};
  } else {
    std::string text = reported_text(field("text"));
    verdict.failure = {"5.6.1", "the render helper failed (exit " + std::to_string(run.exit_code) +
                                    (text.empty() ? ")" : "): " + text)};
  }
  return verdict;
}

}  // namespace bh::connectors::fax
