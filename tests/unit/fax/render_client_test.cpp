// The gateway's side of the render helper (connectors/fax/render_client):
// the real bridgehead-render on good and hostile mails, and stand-in
// helpers (small shell scripts) that crash, hang, spin or try to hand back
// a file that is not theirs. Every failure must be a contained, permanent
// failure of that document with a text that says what happened, and the
// test process (the "gateway") carries on rendering.
#include "connectors/fax/render_client.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/fax/render_client_fixture.hpp"
#include "tests/unit/fax/tiff_test_files.hpp"

namespace bh::connectors::fax {
namespace {

namespace fs = std::filesystem;
using render_test::FaxRenderClient;
using render_test::head;
using render_test::kPlainMail;

// A minimal PDF: the objects in order, then the xref table.
std::string make_pdf(const std::vector<std::string>& objects) {
  std::string out = "%PDF-1.4\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(out.size());
    out += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = out.size();
  out += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (std::size_t offset : offsets) {
    char line[32];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", offset);
    out += line;
  }
  out += "trailer\n<< /Size " + std::to_string(objects.size() + 1) +
         " /Root 1 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return out;
}

std::string pdf_with_pages(int pages) {
  std::string kids;
  for (int i = 0; i < pages; ++i) kids += std::to_string(3 + i) + " 0 R ";
  std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(pages) + " >>"};
  for (int i = 0; i < pages; ++i) {
    objects.push_back("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>");
  }
  return make_pdf(objects);
}

// A 50 KB PDF whose one page saves the graphics state 20 million times: a
// memory bomb (each save copies the state) for any renderer.
std::string pdf_memory_bomb() {
  std::string content;
  content.reserve(40'000'000);
  for (int i = 0; i < 20'000'000; ++i) content += "q ";
  uLongf size = compressBound(content.size());
  std::string packed(size, '\0');
  compress2(reinterpret_cast<Bytef*>(packed.data()), &size,
            reinterpret_cast<const Bytef*>(content.data()), content.size(), 6);
  packed.resize(size);
  return make_pdf({"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                   "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
                   "<< /Length " + std::to_string(packed.size()) +
                       " /Filter /FlateDecode >>\nstream\n" + packed + "\nendstream"});
}

// A PDF whose content stream inflates from 2 MB to 512 MB (of zeros,
// which the content parser reads as white space): a decompression bomb
// that costs a renderer seconds of CPU per page.
std::string pdf_decompression_bomb() {
  z_stream z{};
  deflateInit(&z, 1);
  const std::string zeros(1 << 20, '\0');
  std::string packed;
  char out[1 << 16];
  for (int chunk = 0; chunk <= 512; ++chunk) {
    const bool last = chunk == 512;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
    z.avail_in = last ? 0 : static_cast<uInt>(zeros.size());
    do {
      z.next_out = reinterpret_cast<Bytef*>(out);
      z.avail_out = sizeof out;
      deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
      packed.append(out, sizeof out - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  return make_pdf({"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                   "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
                   "<< /Length " + std::to_string(packed.size()) +
                       " /Filter /FlateDecode >>\nstream\n" + packed + "\nendstream"});
}

std::string base64(const std::string& data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < data.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, data.size() - i);
    uint32_t v = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      v = (v << 8) | (k < n ? static_cast<unsigned char>(data[i + k]) : 0);
    }
    for (std::size_t k = 0; k < 4; ++k) {
      out += k <= n ? kAlphabet[(v >> (18 - 6 * k)) & 63] : '=';
    }
    if ((i / 3 + 1) % 19 == 0) out += "\r\n";
  }
  return out;
}

std::string mail_with_pdf(const std::string& name, const std::string& pdf) {
  return "From: a@b.example\r\nTo: +4930123456@fax.example.com\r\nSubject: hostile\r\n"
         "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
         "--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
         "--XX\r\nContent-Type: application/pdf; name=\"" +
         name + "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64(pdf) + "\r\n--XX--\r\n";
}

TEST_F(FaxRenderClient, APdfWithTooManyPagesIsRefused) {
  job_.options.max_pages = 50;
  FaxRenderOutcome outcome = render(mail_with_pdf("many.pdf", pdf_with_pages(200)));
  EXPECT_FALSE(outcome.ok);
  EXPECT_FALSE(outcome.transient);
  EXPECT_EQ(outcome.failure.status, "5.3.4");
  EXPECT_NE(outcome.failure.text.find("more than 50 pages"), std::string::npos)
      << outcome.failure.text;
  EXPECT_FALSE(fs::exists(job_.output));
}

TEST_F(FaxRenderClient, ATruncatedPdfIsRefusedNamingThePart) {
  FaxRenderOutcome outcome = render(mail_with_pdf("cut.pdf", pdf_with_pages(1).substr(0, 40)));
  EXPECT_FALSE(outcome.ok);
  EXPECT_FALSE(outcome.transient);
  EXPECT_EQ(outcome.failure.status, "5.6.1");
  EXPECT_NE(outcome.failure.text.find("cut.pdf"), std::string::npos) << outcome.failure.text;
}

TEST_F(FaxRenderClient, AMemoryBombIsStoppedByTheLimitAndTheGatewayCarriesOn) {
  FaxRenderOutcome outcome = render(mail_with_pdf("bomb.pdf", pdf_memory_bomb()));
  EXPECT_FALSE(outcome.ok);
  EXPECT_FALSE(outcome.transient);
  EXPECT_EQ(outcome.failure.status, "5.3.4");
  EXPECT_NE(outcome.failure.text.find("memory"), std::string::npos) << outcome.failure.text;
  EXPECT_FALSE(fs::exists(job_.output));
  expect_plain_mail_renders();
}

TEST_F(FaxRenderClient, ADecompressionBombIsStoppedAtTheCpuLimit) {
  helper_.limits.cpu = std::chrono::seconds(1);
  FaxRenderOutcome outcome = render(mail_with_pdf("bomb.pdf", pdf_decompression_bomb()));
  EXPECT_FALSE(outcome.ok);
  EXPECT_FALSE(outcome.transient);
  EXPECT_EQ(outcome.failure.status, "5.3.4");
  EXPECT_EQ(outcome.failure.text, "the render helper exceeded its CPU time limit of 1 s");
  EXPECT_FALSE(fs::exists(job_.output));
  expect_plain_mail_renders();
}

TEST_F(FaxRenderClient, AHelperCrashIsAFailureOfThatDocument) {
  helper_.program = stand_in("kill -SEGV $$");
  FaxRenderOutcome outcome = render(kPlainMail);
  EXPECT_FALSE(outcome.ok);
  EXPECT_FALSE(outcome.transient);
  EXPECT_EQ(outcome.failure.status, "5.6.1");
  EXPECT_EQ(outcome.failure.text.rfind("the render helper crashed (signal 11", 0), 0u)
      << outcome.failure.text;
  expect_plain_mail_renders();
}

TEST_F(FaxRenderClient, AHangingHelperIsKilledAtItsTimeLimit) {
  helper_.program = stand_in("exec /bin/sleep 60");
  helper_.limits.wall = std::chrono::seconds(1);
  FaxRenderOutcome outcome = render(kPlainMail);
  EXPECT_FALSE(outcome.ok);
  EXPECT_FALSE(outcome.transient);
  EXPECT_EQ(outcome.failure.status, "5.3.4");
  EXPECT_EQ(outcome.failure.text, "the render helper exceeded its time limit of 1 s");
}

TEST_F(FaxRenderClient, ASpinningHelperIsStoppedAtItsCpuLimit) {
  helper_.program = stand_in("while :; do :; done");
  helper_.limits.cpu = std::chrono::seconds(1);
  FaxRenderOutcome outcome = render(kPlainMail);
  EXPECT_FALSE(outcome.ok);
  EXPECT_FALSE(outcome.transient);
  EXPECT_EQ(outcome.failure.status, "5.3.4");
  EXPECT_EQ(outcome.failure.text, "the render helper exceeded its CPU time limit of 1 s");
}

TEST_F(FaxRenderClient, AHelperCannotHandBackALinkToAnotherFile) {
  // "$3" is the --output path: a subverted helper puts a symlink there.
  // Landlock would not let it make one in its work directory: unconfined,
  // this tests the gateway's own check when taking the file over.
  helper_.limits.unconfined = true;
  helper_.program = stand_in(
      "printf 'result=ok\\npages=1\\ndocument_pages=1\\n'; exec /bin/ln -s /etc/passwd \"$3\"");
  FaxRenderOutcome outcome = render(kPlainMail);
  EXPECT_FALSE(outcome.ok);
  EXPECT_FALSE(outcome.transient);
  EXPECT_NE(outcome.failure.text.find("cannot be taken over"), std::string::npos)
      << outcome.failure.text;
  EXPECT_FALSE(fs::exists(job_.output));
}

TEST_F(FaxRenderClient, AFailureStatusFromTheHelperIsCheckedAndItsTextMadePrintable) {
  helper_.program =
      stand_in("printf 'result=failed\\nstatus=2.0.0\\ntext=line%%0Abreak\\n'; exit 1");
  FaxRenderOutcome outcome = render(kPlainMail);
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.failure.status, "5.6.1");         // never a success code from a helper
  EXPECT_EQ(outcome.failure.text, "line\\x0Abreak");  // bh::printable
}

TEST_F(FaxRenderClient, TheHelpersTextIsCutBetweenCodePoints) {
  // 250 two-byte characters and a 501st byte: the cut falls inside none.
  std::string text;
  for (int i = 0; i < 300; ++i) text += "\\303\\274";  // u-umlaut, octal for printf
  helper_.program =
      stand_in("printf 'result=failed\\nstatus=5.6.1\\ntext=x" + text + "\\n'; exit 1");
  FaxRenderOutcome outcome = render(kPlainMail);
  ASSERT_FALSE(outcome.ok);
  std::string expected = "x";
  for (int i = 0; i < 249; ++i) expected += "\xc3\xbc";
  EXPECT_EQ(outcome.failure.text, expected + "...");
}

// A stand-in helper that reports `reported` pages and writes `tiff` as its output.
std::string lying_helper(const std::string& tiff, int reported) {
  std::string octal;
  for (unsigned char c : tiff) {
    char escaped[8];
    std::snprintf(escaped, sizeof escaped, "\\%03o", c);
    octal += escaped;
  }
  return "printf 'result=ok\\npages=" + std::to_string(reported) +
         "\\ndocument_pages=" + std::to_string(reported) + "\\n'; printf '" + octal + "' > \"$3\"";
}

TEST_F(FaxRenderClient, TheGatewayCountsThePagesItself) {
  helper_.program = stand_in(lying_helper(test::make_tiff({false, {1728, 1728, 1728}}), 1));
  FaxRenderOutcome outcome = render(kPlainMail);
  EXPECT_FALSE(outcome.ok);
  EXPECT_FALSE(outcome.transient);
  EXPECT_EQ(outcome.failure.status, "5.6.1");
  EXPECT_EQ(outcome.failure.text, "the render helper reported 1 pages, its TIFF has 3");
  EXPECT_FALSE(fs::exists(job_.output));
  // The counter-check: the same TIFF, truthfully reported, is taken.
  helper_.program = stand_in(lying_helper(test::make_tiff({false, {1728, 1728, 1728}}), 3));
  outcome = render(kPlainMail);
  EXPECT_TRUE(outcome.ok) << outcome.failure.text;
  EXPECT_EQ(outcome.pages, 3);
}

TEST_F(FaxRenderClient, AHelperIgnoringThePageLimitIsStoppedByTheGateway) {
  job_.options.max_pages = 2;
  helper_.program = stand_in(lying_helper(test::make_tiff({false, {1728, 1728, 1728}}), 3));
  FaxRenderOutcome outcome = render(kPlainMail);
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.failure.status, "5.3.4");
  EXPECT_NE(outcome.failure.text.find("more than 2 pages"), std::string::npos)
      << outcome.failure.text;
  EXPECT_FALSE(fs::exists(job_.output));
}

TEST_F(FaxRenderClient, AMalformedTiffFromTheHelperIsAFailedRender) {
  helper_.program = stand_in(lying_helper(test::make_tiff({false, {1728, 1728}, 8}), 2));
  FaxRenderOutcome outcome = render(kPlainMail);
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.failure.status, "5.6.1");
  EXPECT_EQ(outcome.failure.text,
            "the render helper's TIFF is not a fax: the TIFF's directories form a loop");
}

TEST_F(FaxRenderClient, AMissingHelperIsTransient) {
  helper_.program = dir_ / "no-such-helper";
  FaxRenderOutcome outcome = render(kPlainMail);
  EXPECT_FALSE(outcome.ok);
  EXPECT_TRUE(outcome.transient);
  EXPECT_NE(outcome.failure.text.find("no-such-helper"), std::string::npos) << outcome.failure.text;
}

TEST_F(FaxRenderClient, AReceivedFaxBecomesAPdf) {
  ASSERT_TRUE(render(kPlainMail).ok);
  const fs::path pdf = dir_ / "fax.pdf";
  FaxPdfOutcome outcome = convert_fax_to_pdf(helper_, job_.output, pdf, 10);
  ASSERT_TRUE(outcome.ok) << outcome.reason;
  EXPECT_EQ(outcome.pages, 1);
  EXPECT_NEAR(outcome.page_width_mm, 215.2, 0.05);
  EXPECT_NEAR(outcome.page_height_mm, 297.0, 0.05);
  EXPECT_EQ(head(pdf, 5), "%PDF-");
}

TEST_F(FaxRenderClient, ACorruptReceivedFaxIsRefused) {
  const fs::path tiff = write("broken.tif", std::string("II*\0\x08\0\0\0garbage", 16));
  FaxPdfOutcome outcome = convert_fax_to_pdf(helper_, tiff, dir_ / "fax.pdf", 10);
  EXPECT_FALSE(outcome.ok);
  EXPECT_FALSE(outcome.transient);
  EXPECT_NE(outcome.reason.find("cannot be read"), std::string::npos) << outcome.reason;
  EXPECT_FALSE(fs::exists(dir_ / "fax.pdf"));
}

}  // namespace
}  // namespace bh::connectors::fax
