// The HylaFAX client protocol (hfaxd on port 4559, "strongly related to
// FTP") as pure functions: the reply parser, the commands as they go on the
// wire, and the parsers of what hfaxd 6.0.7 answers (PASV/EPSV, the FILE:
// of an upload, JNEW's job id, JPARM queries, a LIST of a job queue in
// kJobFormat). No I/O; hylafax_client.* does the sockets.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace bh::connectors::fax::hylafax {

struct Reply {
  int code = 0;
  // Text of each line: after "213 " / "217-" on the first and last line,
  // the whole line for the lines in between (hfaxd indents those without
  // repeating the code, as FTP allows).
  std::vector<std::string> lines;

  bool preliminary() const { return code >= 100 && code < 200; }  // 150: data connection opens
  bool completion() const { return code >= 200 && code < 300; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500; }
  std::string text() const;     // lines joined with "; "
  std::string summary() const;  // "504 Cannot submit job 3; ..."
};

// Lines from the control connection: CRLF-terminated, bounded; a bare CR
// or LF, a NUL or another control byte (other than TAB) is refused.
class LineSplitter {
 public:
  enum class Status { need_more, line, malformed };
  // Takes bytes; next() then yields the complete lines one at a time.
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  Status next(std::string& line);

  static constexpr std::size_t kMaxLineLength = 4096;

 private:
  std::string buffer_;
};

class ReplyParser {
 public:
  enum class Status { incomplete, complete, malformed };

  // Feeds one line (without CRLF). A reply longer than kMaxLines lines is malformed.
  Status add_line(std::string_view line);
  Reply take();

  static constexpr std::size_t kMaxLines = 200;  // JPARM's full dump is about 70

 private:
  Reply reply_;
  bool started_ = false;
};

// True when text holds no CR, LF, NUL or other control byte (TAB aside):
// safe as the argument of one command line.
bool safe_in_command(std::string_view text);

// "VERB argument\r\n" (no argument: "VERB\r\n"); nullopt when the argument
// cannot be sent in one line.
std::optional<std::string> command_line(std::string_view verb, std::string_view argument = {});

// A string parameter as hfaxd's lexer reads it (hfaxd/Parser.c++
// nextToken): in double quotes, with \" and \\ escaped. hfaxd turns \nnn
// into a byte, so a control byte must not reach it even escaped: nullopt.
std::optional<std::string> quote_string(std::string_view value);

// "JPARM NAME \"value\"\r\n" and "JPARM NAME 196\r\n".
std::optional<std::string> jparm_string(std::string_view name, std::string_view value);
std::string jparm_number(std::string_view name, long long value);

// JPARM LASTTIME: relative DDHHMM, rounded up to whole minutes, at least
// one minute, at most 99 days 23:59.
std::string lasttime_value(std::chrono::seconds after_submission);

// The data port of "227 Entering passive mode (h1,h2,h3,h4,p1,p2)". The
// address must be the control connection's peer (IPv4, dotted): a server
// must not make the client connect elsewhere.
Result<std::uint16_t> parse_pasv(const Reply& reply, std::string_view control_peer);
// The data port of "229 Entering Extended Passive Mode (|||port|)".
Result<std::uint16_t> parse_epsv(const Reply& reply);

// The spool-relative file of "150 FILE: /tmp/doc1.tif (Opening ...)" or
// "226 Transfer complete (FILE: /tmp/doc1.tif).": starts with '/', holds
// only letters, digits and "._/-" (it is sent back unquoted in JPARM DOCUMENT).
std::optional<std::string> parse_file_name(const Reply& reply);

// The N of "200 New job created: jobid: N groupid: M."
std::optional<std::string> parse_job_id(const Reply& reply);

// A job id as Bridgehead keeps it (reference) and sends it (JOB id): 1-9 digits.
bool valid_job_id(std::string_view id);

// The value of a JPARM query, "213 FAILED": the text of a one-line 213.
std::optional<std::string> parse_parameter_value(const Reply& reply);

// hfaxd's job states (%a letters "?TPSBWRDF").
enum class JobState { suspended, pending, sleeping, blocked, ready, active, done, failed };
std::optional<JobState> job_state_from_letter(char letter);
std::string_view job_state_name(JobState state);

// JOBFMT for LIST sendq/doneq: id, state letter, owner (login), pages
// sent, pages total, JOBINFO. The tag comes last because it may hold spaces.
inline constexpr std::string_view kJobFormat = "%j %a %o %p %y %J";

struct JobListing {
  std::string id;
  JobState state = JobState::suspended;
  std::string owner;
  int pages_sent = 0;
  int pages_total = 0;
  std::string tag;  // JOBINFO
};

struct JobList {
  std::vector<JobListing> jobs;
  std::size_t skipped = 0;  // lines not in kJobFormat (another client's odd JOBINFO)
};

// The value of "tag:value" in a job's queue file (sendq(5); hfaxd lets
// the job's owner RETR doneq/qN): "csi" is the receiver's CSID, which no
// JPARM or JOBFMT letter shows. nullopt when the tag is missing.
std::optional<std::string> queue_file_value(std::string_view qfile, std::string_view tag);

// The data of LIST in kJobFormat: CRLF-separated lines. A line that does not
// parse is skipped (counted), never guessed at.
JobList parse_job_list(std::string_view data);

}  // namespace bh::connectors::fax::hylafax
