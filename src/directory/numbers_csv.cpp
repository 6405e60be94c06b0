#include "directory/numbers_csv.hpp"

#include <map>

#include <fmt/format.h>

#include "directory/csv.hpp"
#include "directory/validate.hpp"
#include "util/printable.hpp"

namespace bh::directory {
namespace {

const std::vector<std::string> kRequired = {"number", "tenant", "mailbox"};
const std::vector<std::string> kOptional = {"service", "description"};

}  // namespace

Result<std::vector<CsvNumber>> read_numbers_csv(std::string_view text, const std::string& source,
                                                const CsvOptions& options) {
  auto records = read_csv_records(text, source);
  if (!records) return records.error();
  std::string where = printable(source);
  std::vector<std::string> errors;
  std::vector<CsvNumber> numbers;
  auto fail = [&](std::size_t line, const std::string& message) {
    errors.push_back(fmt::format("{}:{}: {}", where, line, message));
  };
  if (records->empty()) {
    if (options.allow_empty) return numbers;
    return Error{
        fmt::format("{}: no header and no numbers; importing it would remove every service number "
                    "(--allow-empty does that)",
                    where)};
  }
  auto columns = CsvColumns::read(records->front(), kRequired, kOptional, source);
  if (!columns) return columns.error();
  NormaliseOptions normalise{options.default_region};
  std::map<std::string, std::size_t> first_line;
  for (std::size_t i = 1; i < records->size() && errors.size() < kMaxCsvErrors; ++i) {
    const CsvRecord& record = (*records)[i];
    if (record.fields.size() != columns->size()) {
      fail(record.line, fmt::format("expected {} fields ({}), found {}", columns->size(),
                                    columns->joined(), record.fields.size()));
      continue;
    }
    auto field = [&](std::string_view name) { return columns->field(record, name).value_or(""); };
    CsvNumber row;
    row.number = ServiceNumber{field("number"), field("tenant"), field("mailbox"), field("service"),
                               field("description")};
    row.line = record.line;
    std::vector<FieldError> problems = normalise_number(row.number, "", normalise);
    for (const FieldError& e : problems)
      fail(record.line, e.field.empty() ? e.message : fmt::format("{}: {}", e.field, e.message));
    if (!problems.empty()) continue;
    auto [first, fresh] = first_line.try_emplace(row.number.number, record.line);
    if (!fresh) {
      fail(record.line, fmt::format("'{}' is also on line {}: one row per number",
                                    row.number.number, first->second));
      continue;
    }
    numbers.push_back(std::move(row));
  }
  if (!errors.empty()) return joined_csv_errors(errors, where);
  if (numbers.empty() && !options.allow_empty)
    return Error{fmt::format(
        "{}: no numbers after the header; importing it would remove every service number "
        "(--allow-empty does that)",
        where)};
  return numbers;
}

std::string write_numbers_csv(const std::vector<ServiceNumber>& numbers) {
  std::vector<std::string> header = kRequired;
  header.insert(header.end(), kOptional.begin(), kOptional.end());
  std::string out = csv_record(header);
  for (const ServiceNumber& n : numbers)
    out += csv_record({n.number, n.tenant, n.mailbox, n.service, n.description});
  return out;
}

}  // namespace bh::directory
