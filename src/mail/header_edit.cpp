#include "mail/header_edit.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "mail/header_block.hpp"
#include "util/printable.hpp"

namespace bh {
namespace {

std::string field_line(const HeaderEdit& edit) {
  return edit.value.empty() ? edit.name + ":\r\n" : edit.name + ": " + edit.value + "\r\n";
}

}  // namespace

bool is_field_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(),
                                      [](char c) { return c >= 33 && c <= 126 && c != ':'; });
}

std::string header_edit_problem(std::string_view name, std::string_view value) {
  if (!is_field_name(name))
    return fmt::format("\"{}\" is not a header field name (printable ASCII except ':')",
                       printable(name));
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
    return fmt::format("the value for {} holds CR, LF or NUL", name);
  if (name.size() + 2 + value.size() > kMaxHeaderLine)
    return fmt::format("\"{}: ...\" would be longer than {} characters", name, kMaxHeaderLine);
  return "";
}

Status apply_header_edits(std::string& content, std::size_t& header_size,
                          const std::vector<HeaderEdit>& edits,
                          std::vector<std::size_t>* fields_removed) {
  if (fields_removed) fields_removed->assign(edits.size(), 0);
  for (const HeaderEdit& edit : edits) {
    std::string problem = header_edit_problem(edit.name, edit.kind == HeaderEdit::Kind::remove
                                                             ? std::string_view()
                                                             : std::string_view(edit.value));
    if (!problem.empty()) return Error{"header edit: " + problem};
  }
  if (edits.empty()) return ok_status();
  header_size = std::min(header_size, content.size());
  // Edited as a copy of the header section (bounded by limits.header_bytes),
  // then put back: the body, or the part of it still in memory, is not touched.
  std::string header = content.substr(0, header_size);
  bool empty_line = header == "\r\n" || header.ends_with("\r\n\r\n");
  // A message of header fields only (BDAT) may end without CRLF: end the
  // last line, or the new field would continue it.
  if (!empty_line && !header.empty() && !header.ends_with("\r\n")) header += "\r\n";
  for (std::size_t i = 0; i < edits.size(); ++i) {
    const HeaderEdit& edit = edits[i];
    auto same_name = [&](std::string_view name) { return iequals_ascii(name, edit.name); };
    std::size_t at = std::string::npos;
    if (edit.kind != HeaderEdit::Kind::add) {
      HeaderBlock block(header);
      auto first = std::find_if(block.fields().begin(), block.fields().end(),
                                [&](const HeaderField& f) { return same_name(f.name); });
      if (first != block.fields().end()) at = first->begin;
      // Only fields at or after `at` go, so `at` stays where the first one was.
      std::size_t removed = remove_header_fields(header, same_name).size();
      if (fields_removed) (*fields_removed)[i] = removed;
      if (edit.kind == HeaderEdit::Kind::remove) continue;
    }
    if (at == std::string::npos) at = empty_line ? header.size() - 2 : header.size();
    header.insert(at, field_line(edit));
  }
  content.replace(0, header_size, header);
  header_size = header.size();
  return ok_status();
}

}  // namespace bh
