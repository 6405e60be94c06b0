#include "connectors/discard/discard_connector.hpp"
