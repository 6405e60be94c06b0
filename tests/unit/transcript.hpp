// Golden transcripts for the session machine: files of
//   O: key=value        options (limits, starttls, require_tls)
//   C: bytes            client sends (escapes \r \n \t \\ \xHH)
//   S: line             server reply line (CRLF implied)
//   E: event            what the session asked its driver to do
// The runner replays the C: lines and rebuilds the file from what the
// machine really did; the test compares the two texts.
#pragma once

#include <string>

std::string replay_transcript(const std::string& golden);
