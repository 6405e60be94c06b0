#pragma once

#include <string>

namespace bh::tls {

// Whether a PEM bundle holds a certificate with this subject CN (e.g.
// "DigiCert Global Root G2", which Exchange Online's chain needs since 2026).
bool bundle_has_common_name(const std::string& bundle_path, const std::string& common_name);

}  // namespace bh::tls
