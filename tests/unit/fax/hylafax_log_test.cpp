// The session log parser (connectors/fax/hylafax_log.hpp) on logs written
// here in the format of HylaFAX 6.0.7's faxd/FaxMachineLog.c++
// ("%h %d %T" + ".%02u: [%5d]: "), with the lines faxd/FaxSend.c++,
// faxd/ClassModem.c++ (DIAL) and faxd/FaxModem.c++ (REMOTE CSI) trace.
#include <gtest/gtest.h>

#include <string>

#include "connectors/fax/hylafax_log.hpp"

using namespace bh::connectors::fax::hylafax;
using std::chrono::seconds;

namespace {

std::string line(const std::string& stamp, const std::string& text) {
  return stamp + ": [ 4242]: " + text + "\n";
}

// A one-page send at SessionTracing 11: dialled at 16:40:12.50, ended at 16:40:53.20.
std::string sent_log() {
  return line("Dec 02 16:40:12.05", "SESSION BEGIN 000000042 4930123456") +
         line("Dec 02 16:40:12.05", "HylaFAX (tm) Version 6.0.7") +
         line("Dec 02 16:40:12.06",
              "SEND FAX: JOB 7 DEST +4930123456 COMMID 000000042 DEVICE '/dev/ttyS0' FROM "
              "'MAILER-DAEMON <postmaster@gw.example.com>' USER bridgehead") +
         line("Dec 02 16:40:12.31", "<-- [9:ATH0\\r]") + line("Dec 02 16:40:12.44", "--> [2:OK]") +
         line("Dec 02 16:40:12.50", "DIAL +4930123456") +
         line("Dec 02 16:40:12.51", "<-- [15:ATDT+4930123456\\r]") +
         line("Dec 02 16:40:30.02", "--> [7:CONNECT]") +
         line("Dec 02 16:40:33.70", "REMOTE CSI \"+49 30 999\"") +
         line("Dec 02 16:40:34.10", "SEND file \"docq/doc7.tif;00\"") +
         line("Dec 02 16:40:49.88",
              "SEND FAX (000000042): FROM postmaster@gw.example.com TO +4930123456 (page 1 of "
              "1[1,1,0,0]  sent in 0:15)") +
         line("Dec 02 16:40:52.01", "<-- [5:ATH0\\r]") + line("Dec 02 16:40:53.20", "SESSION END");
}

}  // namespace

TEST(FaxHylafaxLog, ReadsTheRemoteCsiAndTheCallsDuration) {
  SessionFacts facts = parse_session_log(sent_log());
  EXPECT_EQ(facts.remote_csid, "+49 30 999");
  ASSERT_TRUE(facts.duration);
  EXPECT_EQ(*facts.duration, seconds(41)) << "40.70 s from DIAL to SESSION END, rounded";
}

TEST(FaxHylafaxLog, CrLfLineEndsAreRead) {
  std::string log = sent_log();
  for (std::size_t at = 0; (at = log.find('\n', at)) != std::string::npos; at += 2)
    log.insert(at, "\r");
  SessionFacts facts = parse_session_log(log);
  EXPECT_EQ(facts.remote_csid, "+49 30 999");
  EXPECT_EQ(facts.duration, seconds(41));
}

TEST(FaxHylafaxLog, WithoutProtocolTracingThereIsNeitherCsiNorDuration) {
  // SessionTracing 1: the server's lines only, no DIAL, no REMOTE CSI.
  std::string log =
      line("Dec 02 16:40:12.05", "SESSION BEGIN 000000042 4930123456") +
      line("Dec 02 16:40:12.06", "SEND FAX: JOB 7 DEST +4930123456 COMMID 000000042") +
      line("Dec 02 16:40:53.20", "SESSION END");
  SessionFacts facts = parse_session_log(log);
  EXPECT_EQ(facts.remote_csid, "");
  EXPECT_FALSE(facts.duration);
}

TEST(FaxHylafaxLog, ALogWithoutItsEndHasNoDuration) {
  std::string log = sent_log();
  log.erase(log.rfind("Dec 02 16:40:53.20"));
  SessionFacts facts = parse_session_log(log);
  EXPECT_EQ(facts.remote_csid, "+49 30 999");
  EXPECT_FALSE(facts.duration);
}

TEST(FaxHylafaxLog, ACallOverMidnightAndMonthEndsCounts) {
  auto call = [](const std::string& dial, const std::string& end) {
    return parse_session_log(line(dial, "DIAL +4930123456") + line(end, "SESSION END")).duration;
  };
  EXPECT_EQ(call("Dec 31 23:59:50.00", "Jan 01 00:00:20.00"), seconds(30));
  EXPECT_EQ(call("Dec 02 23:59:59.90", "Dec 03 00:00:00.10"), seconds(1));
  EXPECT_EQ(call("Feb 28 23:59:00.00", "Mar 01 00:01:00.00"), seconds(120));  // not a leap year
  EXPECT_EQ(call("Feb 29 23:59:00.00", "Mar 01 00:01:00.00"), seconds(120));
  EXPECT_EQ(call("Apr 30 23:59:00.00", "May 01 00:00:00.00"), seconds(60));
  // faxd writes the month in its LC_TIME: only compared, never read as a name.
  EXPECT_EQ(call("Dez 31 23:59:50.00", "Jan 01 00:00:20.00"), seconds(30));
  EXPECT_EQ(call("d\xc3\xa9"
                 "c. 02 16:40:12.50",
                 "d\xc3\xa9"
                 "c. 02 16:40:53.20"),
            seconds(41));
  EXPECT_EQ(call("Dec 02 16:00:00.00", "Dec 02 16:00:00.00"), seconds(1)) << "at least 1 s";
}

TEST(FaxHylafaxLog, ImplausibleSpansGiveNoDuration) {
  auto call = [](const std::string& dial, const std::string& end) {
    return parse_session_log(line(dial, "DIAL +4930123456") + line(end, "SESSION END")).duration;
  };
  EXPECT_FALSE(call("Dec 02 16:00:10.00", "Dec 02 16:00:00.00")) << "backwards";
  EXPECT_FALSE(call("Dec 02 16:00:00.00", "Dec 03 16:00:00.00")) << "a whole day";
  EXPECT_FALSE(call("Apr 28 23:59:00.00", "Apr 30 00:00:00.00")) << "two days";
  EXPECT_FALSE(call("Dec 02 16:00:00.00", "Jan 03 16:00:00.00"));
  EXPECT_FALSE(call("Dec 02 23:59:00.00", "Jan 02 00:01:00.00")) << "a month later";
  EXPECT_FALSE(call("Nov 27 23:59:00.00", "Dec 01 00:01:00.00")) << "no month ends on the 27th";
}

TEST(FaxHylafaxLog, LinesOfAnotherShapeAreSkipped) {
  std::string log = "garbage\n" + line(" 02 16:40:12.50", "DIAL +1") +  // no month
                    line("Dec 02 16:40:12", "DIAL +2") +                // no hundredths
                    line("Dec 32 16:40:12.50", "DIAL +3") +             // no such day
                    line("Dec 02 24:40:12.50", "DIAL +4") +             // no such hour
                    "Dec 02 16:40:12.50: [pid]: DIAL +5\n" +            // no process id
                    "Dec 02 16:40:12.50: [ 1]:DIAL +6\n" +              // no space after "]:"
                    line("Dec 02 16:40:20.00", "DIAL +4930123456") +
                    line("Dec 02 16:40:21.00", "REMOTE CSI \"unterminated") +
                    line("Dec 02 16:40:30.00", "SESSION END") + "\n\n";
  SessionFacts facts = parse_session_log(log);
  EXPECT_EQ(facts.remote_csid, "") << "a CSI line without its closing quote is not read";
  EXPECT_EQ(facts.duration, seconds(10)) << "from the first well-formed DIAL";
}

TEST(FaxHylafaxLog, TheLastRemoteCsiCountsAndIsCleaned) {
  std::string log =
      line("Dec 02 16:40:20.00", "REMOTE CSI \"first\"") +
      line("Dec 02 16:40:21.00", "REMOTE CSI \"  \x01Station \"quoted\" 1234567890123  \"");
  EXPECT_EQ(parse_session_log(log).remote_csid, "Station \"quoted\" 123");
}

TEST(FaxHylafaxLog, CleansCsids) {
  EXPECT_EQ(clean_csid("+49 30 999"), "+49 30 999");
  EXPECT_EQ(clean_csid("  +49 30 999  "), "+49 30 999");
  EXPECT_EQ(clean_csid("+49\t30\r\n999\x7f"), "+4930999") << "control bytes are dropped";
  EXPECT_EQ(clean_csid("K\xc3\xb6ln 0221"), "Kln 0221") << "only printable ASCII";
  EXPECT_EQ(clean_csid("123456789012345678901234"), "12345678901234567890");
  EXPECT_EQ(clean_csid("1234567890123456789 end"), "1234567890123456789") << "no trailing space";
  EXPECT_EQ(clean_csid("<UNSPECIFIED>"), "") << "HylaFAX's placeholder is no CSID";
  EXPECT_EQ(clean_csid("   "), "");
  EXPECT_EQ(clean_csid(""), "");
}

TEST(FaxHylafaxLog, CommidsAreDigits) {
  EXPECT_TRUE(valid_commid("000000042"));
  EXPECT_TRUE(valid_commid("1"));
  EXPECT_FALSE(valid_commid(""));
  EXPECT_FALSE(valid_commid("../etc/passwd"));
  EXPECT_FALSE(valid_commid("000000042,000000043"));
  EXPECT_FALSE(valid_commid("123456789012345678901"));
}

TEST(FaxHylafaxLog, AClockChangeDuringTheCallGivesNoDuration) {
  // Summer time begins at 02:00 (clocks go to 03:00) during a 40 s call:
  // DIAL at 01:59:50, SESSION END stamped 03:00:30, 1 h 0 min 40 s later
  // by the stamps. And autumn: 02:59:50, then 02:00:30 after the change.
  auto call = [](const std::string& dial, const std::string& csi, const std::string& end) {
    return parse_session_log(line(dial, "DIAL +4930123456") +
                             line(csi, "REMOTE CSI \"+49 30 999\"") + line(end, "SESSION END"))
        .duration;
  };
  EXPECT_EQ(call("Mar 29 01:59:50.00", "Mar 29 01:59:58.00", "Mar 29 02:00:30.00"), seconds(40))
      << "without a change";
  EXPECT_FALSE(call("Mar 29 01:59:50.00", "Mar 29 01:59:58.00", "Mar 29 03:00:30.00"));
  EXPECT_FALSE(call("Oct 25 02:59:50.00", "Oct 25 02:59:58.00", "Oct 25 02:00:30.00"));
  // Lord Howe Island's half hour.
  EXPECT_FALSE(call("Oct 04 01:59:50.00", "Oct 04 01:59:58.00", "Oct 04 02:30:30.00"));
  // A step within the call's lines, even when the end looks plausible.
  EXPECT_FALSE(call("Mar 29 01:59:50.00", "Mar 29 03:00:10.00", "Mar 29 03:00:20.00"));
}
