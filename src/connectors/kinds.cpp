// The one list of connector kinds. Adding a kind: a folder
// src/connectors/<kind>/ that defines bh::connectors::<kind>_kind(), and
// one line here.
#include <array>

#include "connectors/kind.hpp"

#define BH_CONNECTOR_KINDS(KIND) \
  KIND(file)                     \
  KIND(discard)                  \
  KIND(smtp)                     \
  KIND(webhook)                  \
  KIND(fax)                      \
  KIND(sms)

namespace bh::connectors {

#define BH_DECLARE_KIND(kind) KindDefinition kind##_kind();
BH_CONNECTOR_KINDS(BH_DECLARE_KIND)
#undef BH_DECLARE_KIND

std::span<const KindDefinition> connector_kinds() {
#define BH_LIST_KIND(kind) kind##_kind(),
  static const std::vector<KindDefinition> kinds{BH_CONNECTOR_KINDS(BH_LIST_KIND)};
#undef BH_LIST_KIND
  return kinds;
}

const KindDefinition* find_kind(std::string_view name) {
  for (const KindDefinition& kind : connector_kinds())
    if (kind.name == name) return &kind;
  return nullptr;
}

}  // namespace bh::connectors
