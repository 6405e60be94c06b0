#include "mail/header_block.hpp"

#include <cctype>

#include "mail/mailbox_list.hpp"

namespace bh {

bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool istarts_with_ascii(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals_ascii(text.substr(0, prefix.size()), prefix);
}

HeaderBlock::HeaderBlock(std::string_view content) {
  std::size_t pos = 0;
  while (pos < content.size()) {
    std::size_t line_end = content.find("\r\n", pos);
    if (line_end == std::string_view::npos || line_end == pos) break;  // end of header
    std::size_t end = line_end + 2;
    // Continuation lines start with space or tab.
    while (end < content.size() && (content[end] == ' ' || content[end] == '\t')) {
      std::size_t next = content.find("\r\n", end);
      if (next == std::string_view::npos) {
        end = content.size();
        break;
      }
      end = next + 2;
    }
    std::string_view field = content.substr(pos, end - pos);
    std::size_t colon = field.find(':');
    if (colon != std::string_view::npos && colon > 0) {
      std::string_view name = field.substr(0, colon);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
      std::string_view value = field.substr(colon + 1);
      if (value.ends_with("\r\n")) value.remove_suffix(2);
      fields_.push_back({name, value, pos, end});
    }
    pos = end;
  }
}

std::vector<const HeaderField*> HeaderBlock::all(std::string_view name) const {
  std::vector<const HeaderField*> found;
  for (const HeaderField& field : fields_)
    if (iequals_ascii(field.name, name)) found.push_back(&field);
  return found;
}

std::string HeaderBlock::unfolded(std::string_view value) {
  std::string out;
  for (char c : value)
    if (c != '\r' && c != '\n') out.push_back(c == '\t' ? ' ' : c);
  std::size_t first = out.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  std::size_t last = out.find_last_not_of(' ');
  return out.substr(first, last - first + 1);
}

std::string HeaderBlock::first_unfolded(std::string_view name, std::size_t max_bytes) const {
  auto fields = all(name);
  if (fields.empty()) return {};
  std::string value = unfolded(fields.front()->value);
  if (value.size() > max_bytes) value.resize(max_bytes);
  return value;
}

std::vector<std::string> remove_header_fields(std::string& content,
                                              const std::function<bool(std::string_view)>& remove) {
  std::vector<std::string> removed;
  HeaderBlock block(content);
  std::string kept;
  std::size_t copied = 0;
  for (const HeaderField& field : block.fields()) {
    if (!remove(field.name)) continue;
    removed.emplace_back(field.name);
    kept.append(content, copied, field.begin - copied);
    copied = field.end;
  }
  if (removed.empty()) return removed;
  kept.append(content, copied, std::string::npos);
  content = std::move(kept);
  return removed;
}

// Through the RFC 5322 parser: one mailbox, no group, nothing malformed.
std::string address_in_header(std::string_view value) {
  AddressList list = parse_address_list(value);
  if (!list.ok() || list.groups != 0 || list.mailboxes.size() != 1) return {};
  return list.mailboxes.front().address();
}

}  // namespace bh
