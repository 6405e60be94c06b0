// The fixture of the render client's tests (render_client_test.cpp,
// render_client_thumbnail_test.cpp): a scratch folder, the real helper
// and stand-in helpers (shell scripts) written there.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "connectors/fax/render_client.hpp"

namespace bh::connectors::fax::render_test {

namespace fs = std::filesystem;

inline const std::string kPlainMail =
    "From: a@b.example\r\nTo: +4930123456@fax.example.com\r\nSubject: Gr\xc3\xbc\xc3\x9f"
    "e\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "Sehr geehrte Damen und Herren,\r\nanbei die Unterlagen.\r\n";

inline std::string head(const fs::path& path, std::size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes(n, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(n));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  return bytes;
}

class FaxRenderClient : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "bh-render-client-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    ::chmod(dir_.c_str(), 0755);  // stand-in helpers live here and run as nobody
    helper_.program = BH_RENDER_HELPER;
    job_.output = dir_ / "fax.tif";
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  fs::path write(const std::string& name, const std::string& content) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    ::chmod(path.c_str(), 0600);  // the gateway's: the helper gets it on stdin
    return path;
  }

  fs::path stand_in(const std::string& script) {
    const fs::path path = dir_ / "stand-in-helper";
    std::ofstream(path) << "#!/bin/sh\n" << script << "\n";
    ::chmod(path.c_str(), 0755);
    return path;
  }

  FaxRenderOutcome render(const std::string& mail) {
    job_.message = write("mail.eml", mail);
    return render_mail_to_fax(helper_, job_);
  }

  void expect_plain_mail_renders() {
    helper_.program = BH_RENDER_HELPER;
    helper_.limits = RenderLimits{};
    FaxRenderOutcome outcome = render(kPlainMail);
    ASSERT_TRUE(outcome.ok) << outcome.failure.text;
    EXPECT_EQ(outcome.pages, 1);
    EXPECT_EQ(head(job_.output, 4), std::string("II*\0", 4));
  }

  fs::path dir_;
  RenderHelper helper_;
  FaxRenderJob job_;
};

}  // namespace bh::connectors::fax::render_test
