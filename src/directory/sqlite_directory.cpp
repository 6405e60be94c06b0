#include "directory/sqlite_directory.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "mail/address.hpp"
#include "policy/trust_policy.hpp"
#include "util/printable.hpp"
#include "util/sqlite_open.hpp"

namespace bh::directory {
namespace {

struct Statement {
  sqlite3_stmt* stmt = nullptr;
  ~Statement() { sqlite3_finalize(stmt); }
};

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  while (true) {
    std::size_t cut = text.find(separator);
    std::string part(text.substr(0, cut));
    while (!part.empty() && part.back() == ' ') part.pop_back();
    while (!part.empty() && part.front() == ' ') part.erase(0, 1);
    if (!part.empty()) parts.push_back(part);
    if (cut == std::string_view::npos) return parts;
    text.remove_prefix(cut + 1);
  }
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ";") + p;
  return out;
}

std::string column(sqlite3_stmt* stmt, int index) {
  const unsigned char* text = sqlite3_column_text(stmt, index);
  return text ? reinterpret_cast<const char*>(text) : "";
}

}  // namespace

Result<std::unique_ptr<SqliteDirectory>> SqliteDirectory::open(const std::string& path) {
  const char* schema =
      "PRAGMA journal_mode=WAL;"
      "CREATE TABLE IF NOT EXISTS users ("
      "  address TEXT PRIMARY KEY, tenant TEXT NOT NULL, permissions TEXT NOT NULL);";
  auto db = open_sqlite(path, schema, "directory");
  if (!db) return db.error();
  return std::unique_ptr<SqliteDirectory>(new SqliteDirectory(*db));
}

SqliteDirectory::~SqliteDirectory() {
  sqlite3_close(db_);
}

std::optional<User> SqliteDirectory::find_user(const std::string& address) const {
  std::lock_guard lock(mutex_);
  Statement s;
  if (sqlite3_prepare_v2(db_, "SELECT address, tenant, permissions FROM users WHERE address = ?",
                         -1, &s.stmt, nullptr) != SQLITE_OK)
    return std::nullopt;
  std::string key = to_lower_ascii(address);
  sqlite3_bind_text(s.stmt, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(s.stmt) != SQLITE_ROW) return std::nullopt;
  return User{column(s.stmt, 0), column(s.stmt, 1), split(column(s.stmt, 2), ';')};
}

Status SqliteDirectory::replace_users(const std::vector<User>& users) {
  std::lock_guard lock(mutex_);
  auto exec = [this](const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); };
  if (exec("BEGIN IMMEDIATE") != SQLITE_OK) return Error{sqlite3_errmsg(db_)};
  Statement s;
  bool good = exec("DELETE FROM users") == SQLITE_OK &&
              sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO users VALUES (?, ?, ?)", -1, &s.stmt,
                                 nullptr) == SQLITE_OK;
  for (std::size_t i = 0; good && i < users.size(); ++i) {
    std::string permissions = join(users[i].permissions);
    sqlite3_bind_text(s.stmt, 1, users[i].address.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s.stmt, 2, users[i].tenant.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s.stmt, 3, permissions.c_str(), -1, SQLITE_TRANSIENT);
    good = sqlite3_step(s.stmt) == SQLITE_DONE;
    sqlite3_reset(s.stmt);
  }
  if (!good) {
    std::string reason = sqlite3_errmsg(db_);
    exec("ROLLBACK");
    return Error{"directory import: " + reason};
  }
  if (exec("COMMIT") != SQLITE_OK) return Error{sqlite3_errmsg(db_)};
  return ok_status();
}

Result<std::vector<User>> SqliteDirectory::list() const {
  std::lock_guard lock(mutex_);
  Statement s;
  if (sqlite3_prepare_v2(db_, "SELECT address, tenant, permissions FROM users ORDER BY address", -1,
                         &s.stmt, nullptr) != SQLITE_OK)
    return Error{sqlite3_errmsg(db_)};
  std::vector<User> users;
  while (sqlite3_step(s.stmt) == SQLITE_ROW)
    users.push_back({column(s.stmt, 0), column(s.stmt, 1), split(column(s.stmt, 2), ';')});
  return users;
}

namespace {

struct CsvRecord {
  std::vector<std::string> fields;
  std::vector<bool> quoted;
  std::size_t line = 0;  // where the record starts
};

// RFC 4180 records: fields separated by ',', records by CRLF (or LF); a field
// in double quotes may hold ',', CR, LF and "" (one quote). Unquoted fields
// lose surrounding spaces. Lines that start with '#' are comments.
Result<std::vector<CsvRecord>> split_csv(std::string_view text, const std::string& source) {
  std::vector<CsvRecord> records;
  std::size_t line = 1;
  std::size_t pos = 0;
  auto at_end_of_record = [&](std::size_t i) {
    return i >= text.size() || text[i] == '\n' ||
           (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n');
  };
  auto skip_newline = [&](std::size_t& i) {
    if (i < text.size() && text[i] == '\r') ++i;
    if (i < text.size() && text[i] == '\n') ++i;
    ++line;
  };
  while (pos < text.size()) {
    if (text[pos] == '#') {  // comment line
      while (!at_end_of_record(pos)) ++pos;
      skip_newline(pos);
      continue;
    }
    CsvRecord record;
    record.line = line;
    while (true) {
      std::string field;
      bool quoted = false;
      std::size_t start = pos;
      while (pos < text.size() && text[pos] == ' ') ++pos;
      if (pos < text.size() && text[pos] == '"') {
        quoted = true;
        std::size_t opened = line;
        ++pos;
        while (true) {
          if (pos >= text.size())
            return Error{fmt::format("{}:{}: a quoted field is not closed (a '\"' is missing)",
                                     printable(source), opened)};
          char c = text[pos++];
          if (c == '"') {
            if (pos < text.size() && text[pos] == '"') {
              field.push_back('"');
              ++pos;
              continue;
            }
            break;
          }
          if (c == '\n') ++line;
          field.push_back(c);
        }
        while (pos < text.size() && text[pos] == ' ') ++pos;
        if (pos < text.size() && text[pos] != ',' && !at_end_of_record(pos))
          return Error{fmt::format(
              "{}:{}: text after a quoted field's closing '\"' (write a quote inside one as \"\")",
              printable(source), line)};
      } else {
        pos = start;
        while (pos < text.size() && text[pos] != ',' && !at_end_of_record(pos)) {
          if (text[pos] == '"')
            return Error{fmt::format(
                "{}:{}: '\"' inside a field that does not start with one (quote the whole field "
                "and write the quote as \"\")",
                printable(source), line)};
          field.push_back(text[pos++]);
        }
        while (!field.empty() && field.back() == ' ') field.pop_back();
        while (!field.empty() && field.front() == ' ') field.erase(0, 1);
      }
      record.fields.push_back(std::move(field));
      record.quoted.push_back(quoted);
      if (pos < text.size() && text[pos] == ',') {
        ++pos;
        continue;
      }
      skip_newline(pos);
      break;
    }
    bool blank = std::all_of(record.fields.begin(), record.fields.end(),
                             [](const std::string& f) { return f.empty(); });
    if (!blank) records.push_back(std::move(record));
  }
  return records;
}

std::string quote_value(std::string_view text) {
  return "'" + printable(text) + "'";
}

constexpr std::size_t kMaxErrors = 20;

}  // namespace

Result<std::vector<CsvUser>> read_users_csv(std::string_view text, const std::string& source,
                                            const CsvOptions& options) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 BOM (Excel)
  auto records = split_csv(text, source);
  if (!records) return records.error();
  std::string where = printable(source);
  std::vector<std::string> errors;
  std::vector<CsvUser> users;
  std::map<std::string, std::size_t> first_line;
  auto fail = [&](std::size_t line, const std::string& message) {
    errors.push_back(fmt::format("{}:{}: {}", where, line, message));
  };
  if (records->empty()) {
    if (options.allow_empty) return users;
    return Error{fmt::format(
        "{}: no header and no users; importing it would remove every user (--allow-empty does "
        "that)",
        where)};
  }
  const CsvRecord& header = records->front();
  auto lower = [](std::string text) { return to_lower_ascii(text); };
  if (header.fields.size() != 3 || lower(header.fields[0]) != "address" ||
      lower(header.fields[1]) != "tenant" || lower(header.fields[2]) != "permissions") {
    std::string hint;
    if (header.fields.size() == 1 && header.fields[0].find(';') != std::string::npos)
      hint = " (the file is separated by ';': save it as \"CSV UTF-8 (comma delimited)\")";
    return Error{fmt::format("{}:{}: the first line must be: address,tenant,permissions{}", where,
                             header.line, hint)};
  }
  for (std::size_t i = 1; i < records->size() && errors.size() < kMaxErrors; ++i) {
    const CsvRecord& record = (*records)[i];
    const auto& fields = record.fields;
    if (fields.size() != 3) {
      fail(record.line,
           fmt::format("expected 3 fields (address,tenant,permissions), found {}", fields.size()));
      continue;
    }
    auto parsed = parse_path("<" + fields[0] + ">", false, true);
    if (fields[0].empty() || !parsed.address || parsed.address->domain.empty() ||
        !parsed.rest.empty()) {
      fail(record.line, quote_value(fields[0]) + " is not a mail address");
      continue;
    }
    std::string address = to_lower_ascii(fields[0]);
    std::string tenant = to_lower_ascii(fields[1]);
    if (!is_tenant_guid(tenant)) {
      fail(record.line, quote_value(fields[1]) + " is not a tenant id (GUID)");
      continue;
    }
    std::vector<std::string> permissions;
    bool good = true;
    for (std::string& permission : split(fields[2], ';')) {
      permission = to_lower_ascii(permission);
      if (!valid_service_name(permission)) {
        fail(record.line, quote_value(permission) +
                              " is not a service name (lower-case letters, digits, '-' and '_', "
                              "1 to 32 characters; several are separated by ';')");
        good = false;
        break;
      }
      if (std::find(permissions.begin(), permissions.end(), permission) == permissions.end())
        permissions.push_back(permission);
    }
    if (!good) continue;
    auto [first, fresh] = first_line.try_emplace(address, record.line);
    if (!fresh) {
      fail(record.line, fmt::format("{} is also on line {}: one row per address",
                                    quote_value(address), first->second));
      continue;
    }
    users.push_back({{address, tenant, std::move(permissions)}, record.line});
  }
  if (!errors.empty()) {
    std::string joined;
    for (const auto& e : errors) joined += (joined.empty() ? "" : "\n") + e;
    if (errors.size() >= kMaxErrors) joined += "\n" + where + ": (stopped after 20 errors)";
    return Error{joined};
  }
  if (users.empty() && !options.allow_empty)
    return Error{fmt::format(
        "{}: no users after the header; importing it would remove every user (--allow-empty "
        "does that)",
        where)};
  return users;
}

Result<std::vector<User>> parse_users_csv(std::string_view text, const std::string& source,
                                          const CsvOptions& options) {
  auto read = read_users_csv(text, source, options);
  if (!read) return read.error();
  std::vector<User> users;
  for (auto& row : *read) users.push_back(std::move(row.user));
  return users;
}

std::vector<std::string> unused_permission_warnings(const std::vector<CsvUser>& users,
                                                    const std::set<std::string>& services,
                                                    const std::string& source) {
  std::map<std::string, std::vector<std::size_t>> unused;
  for (const CsvUser& row : users)
    for (const std::string& permission : row.user.permissions)
      if (!services.contains(permission)) unused[permission].push_back(row.line);
  std::vector<std::string> warnings;
  for (const auto& [permission, lines] : unused) {
    std::string list;
    for (std::size_t i = 0; i < lines.size() && i < 5; ++i)
      list += (list.empty() ? "" : ", ") + std::to_string(lines[i]);
    if (lines.size() > 5) list += fmt::format(" and {} more", lines.size() - 5);
    warnings.push_back(fmt::format(
        "{}: warning: permission {} (line{} {}) is the service of no route; it has no effect",
        printable(source), quote_value(permission), lines.size() > 1 ? "s" : "", list));
  }
  return warnings;
}

}  // namespace bh::directory
