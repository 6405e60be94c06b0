#include "render/html_text.hpp"

#include "render/html_entities.hpp"

#include <algorithm>
#include <array>
#include <optional>

namespace bh::render {
namespace {

constexpr std::size_t kMaxUrlBytes = 2048;  // a longer href is not printed

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_alnum(char c) {
  return is_alpha(c) || (c >= '0' && c <= '9');
}
char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}
// b is lower case.
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == y; });
}

enum class Break { none, line, paragraph };

Break break_of(std::string_view tag) {
  static constexpr std::array<std::string_view, 11> kParagraph{
      "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "hr"};
  static constexpr std::array<std::string_view, 24> kLine{
      "div",     "li",      "tr",     "ul",     "ol",       "dl",      "dt",      "dd",
      "section", "article", "header", "footer", "nav",      "address", "form",    "center",
      "caption", "figure",  "main",   "aside",  "fieldset", "legend",  "details", "summary"};
  for (auto name : kParagraph)
    if (iequals(tag, name)) return Break::paragraph;
  for (auto name : kLine)
    if (iequals(tag, name)) return Break::line;
  return Break::none;
}

bool is_dropped_element(std::string_view tag) {
  return iequals(tag, "script") || iequals(tag, "style") || iequals(tag, "head") ||
         iequals(tag, "title") || iequals(tag, "template") || iequals(tag, "noscript");
}

struct Tag {
  std::string_view name;
  bool closing = false;
  std::string href;     // of <a>, decoded, at most kMaxUrlBytes
  std::size_t end = 0;  // position after '>'
};

// Parses the tag at html[pos] == '<'. nullopt when it is not a tag (a
// literal '<'). An unterminated tag ends at the end of the input.
std::optional<Tag> parse_tag(std::string_view html, std::size_t pos) {
  Tag tag;
  std::size_t i = pos + 1;
  if (i < html.size() && html[i] == '/') {
    tag.closing = true;
    ++i;
  }
  if (i >= html.size() || !is_alpha(html[i])) return std::nullopt;
  std::size_t name_start = i;
  while (i < html.size() && (is_alnum(html[i]) || html[i] == '-' || html[i] == ':')) ++i;
  tag.name = html.substr(name_start, i - name_start);
  bool is_anchor = iequals(tag.name, "a");
  // Attributes: name[=value], value quoted or not; only href is kept.
  while (i < html.size() && html[i] != '>') {
    if (is_space(html[i]) || html[i] == '/') {
      ++i;
      continue;
    }
    std::size_t attr_start = i;
    while (i < html.size() && !is_space(html[i]) && html[i] != '=' && html[i] != '>') ++i;
    std::string_view attr = html.substr(attr_start, i - attr_start);
    while (i < html.size() && is_space(html[i])) ++i;
    if (i >= html.size() || html[i] != '=') continue;
    ++i;
    while (i < html.size() && is_space(html[i])) ++i;
    std::size_t value_start = i;
    std::size_t value_end = i;
    if (i < html.size() && (html[i] == '"' || html[i] == '\'')) {
      char quote = html[i];
      value_start = ++i;
      std::size_t close = html.find(quote, i);
      value_end = close == std::string_view::npos ? html.size() : close;
      i = close == std::string_view::npos ? html.size() : close + 1;
    } else {
      while (i < html.size() && !is_space(html[i]) && html[i] != '>') ++i;
      value_end = i;
    }
    if (is_anchor && !tag.closing && iequals(attr, "href") &&
        value_end - value_start <= kMaxUrlBytes) {
      std::string_view raw = html.substr(value_start, value_end - value_start);
      for (std::size_t k = 0; k < raw.size();) {
        if (raw[k] == '&') {
          if (auto next = decode_html_entity(raw, k, tag.href)) {
            k = *next;
            continue;
          }
        }
        if (!is_space(raw[k])) tag.href += raw[k];
        ++k;
      }
    }
  }
  tag.end = i < html.size() ? i + 1 : html.size();
  return tag;
}

// The text being built: whitespace collapses, breaks are deferred until
// the next visible character so that runs of blocks do not pile up blank
// lines.
class TextBuilder {
 public:
  void text(std::string_view chars, bool preformatted) {
    for (char c : chars) {
      if (preformatted) {
        if (c == '\r') continue;
        if (c == '\n') {
          ++pending_newlines_;
          pending_space_ = false;
          continue;
        }
        flush();
        out_ += c;
      } else if (is_space(c)) {
        pending_space_ = !at_line_start();
      } else {
        flush();
        out_ += c;
      }
    }
  }
  void visible(std::string_view chars) {  // decoded entities and prefixes: never collapsed
    flush();
    out_ += chars;
  }
  void request_break(Break kind) {
    pending_space_ = false;
    int wanted = kind == Break::paragraph ? 2 : 1;
    int have = trailing_newlines() + pending_newlines_;
    if (have < wanted) pending_newlines_ += wanted - have;
  }
  void line_break() {  // <br>: always one more
    pending_space_ = false;
    ++pending_newlines_;
  }
  void cell_separator() {
    if (!at_line_start()) {
      pending_space_ = false;
      pending_tab_ = true;
    }
  }
  std::size_t size() const { return out_.size(); }
  std::string_view since(std::size_t pos) const {
    return std::string_view(out_).substr(std::min(pos, out_.size()));
  }
  std::string finish() {
    while (!out_.empty() && is_space(out_.back())) out_.pop_back();
    return std::move(out_);
  }

 private:
  bool at_line_start() const {
    return out_.empty() || out_.back() == '\n' || pending_newlines_ > 0;
  }
  int trailing_newlines() const {
    int n = 0;
    for (auto it = out_.rbegin(); it != out_.rend() && *it == '\n'; ++it) ++n;
    return out_.empty() ? 2 : n;  // nothing before: no break needed
  }
  void flush() {
    if (!out_.empty())
      for (; pending_newlines_ > 0; --pending_newlines_) out_ += '\n';
    pending_newlines_ = 0;
    if (pending_tab_)
      out_ += '\t';
    else if (pending_space_)
      out_ += ' ';
    pending_tab_ = false;
    pending_space_ = false;
  }

  std::string out_;
  int pending_newlines_ = 0;
  bool pending_space_ = false;
  bool pending_tab_ = false;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool link_worth_printing(std::string_view href, std::string_view text) {
  if (href.empty() || href.front() == '#') return false;
  if (href.size() >= 11 && iequals(href.substr(0, 11), "javascript:")) return false;
  if (text == href) return false;
  if (href.size() > 7 && iequals(href.substr(0, 7), "mailto:") && text == href.substr(7))
    return false;
  // "example.com" for "https://example.com/": the reader sees the URL already.
  for (std::string_view scheme : {"https://", "http://"}) {
    if (href.size() > scheme.size() && iequals(href.substr(0, scheme.size()), scheme)) {
      std::string_view rest = href.substr(scheme.size());
      if (text == rest || (rest.back() == '/' && text == rest.substr(0, rest.size() - 1)))
        return false;
    }
  }
  return true;
}

}  // namespace

std::string html_to_text(std::string_view html) {
  TextBuilder out;
  int preformatted = 0;
  std::optional<std::pair<std::string, std::size_t>> open_link;  // href, text start
  auto close_link = [&] {
    if (!open_link) return;
    std::string_view text = trim(out.since(open_link->second));
    if (link_worth_printing(open_link->first, text)) out.visible(" <" + open_link->first + ">");
    open_link.reset();
  };

  std::size_t i = 0;
  while (i < html.size()) {
    char c = html[i];
    if (c == '&') {
      std::string decoded;
      if (auto next = decode_html_entity(html, i, decoded)) {
        out.visible(decoded);
        i = *next;
        continue;
      }
      out.visible("&");
      ++i;
      continue;
    }
    if (c != '<') {
      std::size_t next = html.find_first_of("<&", i);
      if (next == std::string_view::npos) next = html.size();
      out.text(html.substr(i, next - i), preformatted > 0);
      i = next;
      continue;
    }
    // Comments, doctype, processing instructions: skipped.
    if (html.substr(i, 4) == "<!--") {
      std::size_t end = html.find("-->", i + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    if (i + 1 < html.size() && (html[i + 1] == '!' || html[i + 1] == '?')) {
      std::size_t end = html.find('>', i);
      i = end == std::string_view::npos ? html.size() : end + 1;
      continue;
    }
    if (html.substr(i, 2) == "</" && (i + 2 >= html.size() || !is_alpha(html[i + 2]))) {
      // "</>" or "</3": not an end tag; browsers drop it up to its '>'.
      std::size_t end = html.find('>', i);
      i = end == std::string_view::npos ? html.size() : end + 1;
      continue;
    }
    auto tag = parse_tag(html, i);
    if (!tag) {
      out.visible("<");
      ++i;
      continue;
    }
    i = tag->end;
    if (!tag->closing && is_dropped_element(tag->name)) {
      // Skip to the matching end tag; none: the rest is dropped.
      std::size_t search = i;
      std::size_t end = html.size();
      while (search < html.size()) {
        std::size_t lt = html.find("</", search);
        if (lt == std::string_view::npos) break;
        std::string_view candidate = html.substr(lt + 2, tag->name.size());
        if (same_name(candidate, tag->name)) {
          std::size_t gt = html.find('>', lt);
          end = gt == std::string_view::npos ? html.size() : gt + 1;
          break;
        }
        search = lt + 2;
      }
      i = end;
      continue;
    }
    std::string_view name = tag->name;
    if (iequals(name, "br")) {
      out.line_break();
    } else if (iequals(name, "a")) {
      close_link();
      if (!tag->closing) open_link.emplace(std::move(tag->href), out.size());
    } else if (iequals(name, "td") || iequals(name, "th")) {
      if (!tag->closing) out.cell_separator();
    } else if (Break kind = break_of(name); kind != Break::none) {
      if (iequals(name, "pre")) preformatted = std::max(0, preformatted + (tag->closing ? -1 : 1));
      out.request_break(kind);
      if (iequals(name, "li") && !tag->closing) out.visible("- ");
    }
  }
  close_link();
  return out.finish();
}

}  // namespace bh::render
