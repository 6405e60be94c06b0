#include <gtest/gtest.h>

#include "connectors/fax/hylafax_protocol.hpp"

using namespace bh::connectors::fax::hylafax;

namespace {

Reply one_line(int code, std::string text) {
  Reply reply;
  reply.code = code;
  reply.lines.push_back(std::move(text));
  return reply;
}

}  // namespace

TEST(FaxHylafaxProtocol, ParsesOneLineReplies) {
  ReplyParser parser;
  ASSERT_EQ(parser.add_line("220 vm server (HylaFAX (tm) Version 6.0.7) ready."),
            ReplyParser::Status::complete);
  Reply greeting = parser.take();
  EXPECT_EQ(greeting.code, 220);
  EXPECT_EQ(greeting.text(), "vm server (HylaFAX (tm) Version 6.0.7) ready.");
  // An empty JPARM STATUS of a job that has none: "213 ".
  ASSERT_EQ(parser.add_line("213 "), ReplyParser::Status::complete);
  Reply empty = parser.take();
  EXPECT_EQ(empty.code, 213);
  ASSERT_EQ(empty.lines.size(), 1u);
  EXPECT_EQ(empty.lines[0], "");
  EXPECT_EQ(parse_parameter_value(empty), "");
}

TEST(FaxHylafaxProtocol, ParsesMultiLineRepliesWithUncodedLines) {
  // hfaxd's bare JPARM: the lines between first and last do not repeat the code.
  ReplyParser parser;
  EXPECT_EQ(parser.add_line("217-Job state: jobid 1 groupid 1"), ReplyParser::Status::incomplete);
  EXPECT_EQ(parser.add_line("    SENDTIME: NOW"), ReplyParser::Status::incomplete);
  EXPECT_EQ(parser.add_line("213 not the end: another code"), ReplyParser::Status::incomplete);
  EXPECT_EQ(parser.add_line("217-still inside"), ReplyParser::Status::incomplete);
  EXPECT_EQ(parser.add_line("217 End of job 1 state."), ReplyParser::Status::complete);
  Reply reply = parser.take();
  EXPECT_EQ(reply.code, 217);
  ASSERT_EQ(reply.lines.size(), 5u);
  EXPECT_EQ(reply.lines[1], "    SENDTIME: NOW");
  EXPECT_EQ(reply.lines[4], "End of job 1 state.");
  EXPECT_FALSE(parse_parameter_value(reply));  // a multi-line reply is no JPARM value
}

TEST(FaxHylafaxProtocol, RefusesMalformedReplies) {
  for (const char* bad :
       {"hello", "22", "099 too low", "600 too high", "220xready", "220 nul\x01 inside"}) {
    ReplyParser parser;
    EXPECT_EQ(parser.add_line(bad), ReplyParser::Status::malformed) << bad;
  }
  ReplyParser long_reply;
  ASSERT_EQ(long_reply.add_line("217-start"), ReplyParser::Status::incomplete);
  ReplyParser::Status status = ReplyParser::Status::incomplete;
  for (std::size_t i = 0;
       i < ReplyParser::kMaxLines + 1 && status == ReplyParser::Status::incomplete; ++i)
    status = long_reply.add_line("   line");
  EXPECT_EQ(status, ReplyParser::Status::malformed);
}

TEST(FaxHylafaxProtocol, SplitsCrlfLinesAndRefusesBareLineEnds) {
  LineSplitter lines;
  std::string line;
  lines.feed("230 User bridgehead logged in.\r\n200 Using");
  ASSERT_EQ(lines.next(line), LineSplitter::Status::line);
  EXPECT_EQ(line, "230 User bridgehead logged in.");
  EXPECT_EQ(lines.next(line), LineSplitter::Status::need_more);
  lines.feed(" time values in GMT.\r\n");
  ASSERT_EQ(lines.next(line), LineSplitter::Status::line);
  EXPECT_EQ(line, "200 Using time values in GMT.");

  LineSplitter bare_lf;
  bare_lf.feed("200 ok\n");
  EXPECT_EQ(bare_lf.next(line), LineSplitter::Status::malformed);
  LineSplitter bare_cr;
  bare_cr.feed("200 o\rk\r\n");
  EXPECT_EQ(bare_cr.next(line), LineSplitter::Status::malformed);
  LineSplitter nul;
  nul.feed(std::string("200 o\0k\r\n", 9));
  EXPECT_EQ(nul.next(line), LineSplitter::Status::malformed);
  LineSplitter endless;
  endless.feed(std::string(LineSplitter::kMaxLineLength + 2, 'x'));
  EXPECT_EQ(endless.next(line), LineSplitter::Status::malformed);
  LineSplitter utf8;  // bytes >= 0x80 are text (a status in another language)
  utf8.feed(
      "213 Gr\xc3\xbc\xc3\x9f"
      "e\r\n");
  EXPECT_EQ(utf8.next(line), LineSplitter::Status::line);
}

TEST(FaxHylafaxProtocol, FormatsCommandsAndQuotesStrings) {
  EXPECT_EQ(command_line("USER", "bridgehead"), "USER bridgehead\r\n");
  EXPECT_EQ(command_line("JSUBM"), "JSUBM\r\n");
  EXPECT_FALSE(command_line("USER", "a\r\nJKILL"));
  EXPECT_FALSE(command_line("USER", std::string("a\0b", 3)));

  EXPECT_EQ(quote_string("+4930123456"), "\"+4930123456\"");
  EXPECT_EQ(quote_string("say \"hi\" \\o/"), "\"say \\\"hi\\\" \\\\o/\"");
  EXPECT_FALSE(quote_string("line\nbreak"));
  EXPECT_FALSE(quote_string("bell\x07"));
  EXPECT_EQ(jparm_string("DIALSTRING", "+4930123456"), "JPARM DIALSTRING \"+4930123456\"\r\n");
  EXPECT_FALSE(jparm_string("JOBINFO", "a\rb"));
  EXPECT_EQ(jparm_number("VRES", 196), "JPARM VRES 196\r\n");
}

TEST(FaxHylafaxProtocol, WritesKillTimeAsDdHhMm) {
  using std::chrono::hours;
  using std::chrono::minutes;
  using std::chrono::seconds;
  EXPECT_EQ(lasttime_value(hours(3)), "000300");
  EXPECT_EQ(lasttime_value(minutes(2)), "000002");
  EXPECT_EQ(lasttime_value(hours(49) + minutes(5)), "020105");
  EXPECT_EQ(lasttime_value(seconds(61)), "000002");  // rounded up
  EXPECT_EQ(lasttime_value(seconds(0)), "000001");
  EXPECT_EQ(lasttime_value(hours(24 * 365)), "992359");
}

TEST(FaxHylafaxProtocol, ParsesPasvOnlyForTheControlPeer) {
  Reply pasv = one_line(227, "Entering passive mode (127,0,0,1,209,7)");
  auto port = parse_pasv(pasv, "127.0.0.1");
  ASSERT_TRUE(port) << port.error().message;
  EXPECT_EQ(*port, 209 * 256 + 7);

  auto elsewhere = parse_pasv(one_line(227, "Entering passive mode (10,0,0,5,4,1)"), "127.0.0.1");
  ASSERT_FALSE(elsewhere);
  EXPECT_NE(elsewhere.error().message.find("10.0.0.5"), std::string::npos);
  for (const char* bad :
       {"Entering passive mode (127,0,0,1,209)", "Entering passive mode (127,0,0,1,209,7,1)",
        "Entering passive mode (127,0,0,1,256,7)", "Entering passive mode (127,0,0,1,0,0)",
        "Entering passive mode (127,0,0,1,2x,7)", "Entering passive mode"})
    EXPECT_FALSE(parse_pasv(one_line(227, bad), "127.0.0.1")) << bad;
  EXPECT_FALSE(parse_pasv(one_line(425, "Cannot open passive connection"), "127.0.0.1"));

  auto epsv = parse_epsv(one_line(229, "Entering Extended Passive Mode (|||40001|)"));
  ASSERT_TRUE(epsv);
  EXPECT_EQ(*epsv, 40001);
  EXPECT_FALSE(parse_epsv(one_line(229, "Entering Extended Passive Mode (|||70000|)")));
  EXPECT_FALSE(parse_epsv(one_line(229, "Entering Extended Passive Mode (|||x|)")));
}

TEST(FaxHylafaxProtocol, ParsesUploadFileNamesAndJobIds) {
  EXPECT_EQ(parse_file_name(one_line(150, "FILE: /tmp/doc1.tif (Opening new data connection).")),
            "/tmp/doc1.tif");
  EXPECT_EQ(parse_file_name(one_line(226, "Transfer complete (FILE: /tmp/doc12.tif).")),
            "/tmp/doc12.tif");
  EXPECT_FALSE(parse_file_name(one_line(226, "Transfer complete.")));
  EXPECT_FALSE(parse_file_name(one_line(226, "Transfer complete (FILE: tmp/doc1.tif).")));
  EXPECT_FALSE(parse_file_name(one_line(226, "Transfer complete (FILE: /tmp/a,b\").")));
  EXPECT_FALSE(parse_file_name(one_line(226, "Transfer complete (FILE: /../etc/passwd).")));

  EXPECT_EQ(parse_job_id(one_line(200, "New job created: jobid: 2 groupid: 2.")), "2");
  EXPECT_FALSE(parse_job_id(one_line(200, "New job created.")));
  EXPECT_FALSE(parse_job_id(one_line(200, "New job created: jobid: 12345678901 groupid: 2.")));
  EXPECT_TRUE(valid_job_id("123"));
  EXPECT_FALSE(valid_job_id("1 2"));
  EXPECT_FALSE(valid_job_id(""));
}

TEST(FaxHylafaxProtocol, ParsesJobListingsInItsFormat) {
  // The data of LIST doneq after JOBFMT "%j %a %o %p %y %J" (hfaxd 6.0.7).
  JobList list = parse_job_list(
      "1 F bridgehead 0 0 bridgehead/fax/Q1.0 \"x\"\r\n"
      "12 D bridgehead 3 3 bridgehead/fax/Q2.1\r\n"
      "13 X bridgehead 0 0 unknown state\r\n"
      "14 D other 1 1\r\n"
      "\r\n"
      "15 D bridgehead 1 2 \r\n");
  ASSERT_EQ(list.jobs.size(), 3u);
  EXPECT_EQ(list.skipped, 2u);
  EXPECT_EQ(list.jobs[0].id, "1");
  EXPECT_EQ(list.jobs[0].state, JobState::failed);
  EXPECT_EQ(list.jobs[0].tag, "bridgehead/fax/Q1.0 \"x\"");
  EXPECT_EQ(list.jobs[1].state, JobState::done);
  EXPECT_EQ(list.jobs[1].pages_sent, 3);
  EXPECT_EQ(list.jobs[1].pages_total, 3);
  EXPECT_EQ(list.jobs[2].tag, "");
  EXPECT_EQ(job_state_name(JobState::ready), "READY");
  EXPECT_EQ(job_state_from_letter('W'), JobState::ready);
}

TEST(FaxHylafaxProtocol, ReadsQueueFileValues) {
  // From a doneq/qN file of hfaxd 6.0.7 after JKILL.
  std::string qfile =
      "tts:1796180302\nstate:8\nnpages:0\ncsi:\nstatus:Job aborted by request\n"
      "statuscode:345\ncsi2:nope\n";
  EXPECT_EQ(queue_file_value(qfile, "status"), "Job aborted by request");
  EXPECT_EQ(queue_file_value(qfile, "statuscode"), "345");
  EXPECT_EQ(queue_file_value(qfile, "csi"), "");
  EXPECT_FALSE(queue_file_value(qfile, "commid"));
  EXPECT_FALSE(queue_file_value(qfile, "stat"));
  EXPECT_EQ(queue_file_value("csi:+49 30 123456", "csi"), "+49 30 123456");
}
