// Golden transcripts for the session machine: files of
//   O: key=value        options (limits, starttls, require_tls)
//   C: bytes            client sends (escapes \r \n \t \\ \xHH)
//   S: line             server reply line (CRLF implied)
//   E: event            what the session asked its driver to do
//   T: +N               N milliseconds pass on the fake monotonic clock
//                       (SessionSettings::now_ms, 0 at connect) before the
//                       next C: line; when the machine's deadline comes
//                       meanwhile, the runner stops the clock there and calls
//                       timed_out(), as the driver's timer would:
//                       "E: timed out at N ms: <log reason>"
// The runner replays the C: lines and rebuilds the file from what the
// machine really did; the test compares the two texts.
#pragma once

#include <string>

#include <utility>

std::string replay_transcript(const std::string& golden);
// (comments, body): "# ..." lines are for people, blank lines are dropped.
std::pair<std::string, std::string> split_comments(const std::string& text);
