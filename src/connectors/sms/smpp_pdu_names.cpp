// The names of SMPP commands and command_status values, for logs and texts.
#include <utility>

#include <fmt/format.h>

#include "connectors/sms/smpp_pdu.hpp"

namespace bh::connectors::sms::smpp {

namespace {

struct StatusName {
  std::uint32_t status;
  const char* name;
};

constexpr StatusName kStatusNames[] = {
    {status::ok, "ESME_ROK"},
    {status::invalid_message_length, "ESME_RINVMSGLEN"},
    {status::invalid_command_length, "ESME_RINVCMDLEN"},
    {status::invalid_command_id, "ESME_RINVCMDID"},
    {status::invalid_bind_status, "ESME_RINVBNDSTS"},
    {status::already_bound, "ESME_RALYBND"},
    {status::system_error, "ESME_RSYSERR"},
    {status::invalid_source_address, "ESME_RINVSRCADR"},
    {status::invalid_dest_address, "ESME_RINVDSTADR"},
    {status::invalid_message_id, "ESME_RINVMSGID"},
    {status::bind_failed, "ESME_RBINDFAIL"},
    {status::invalid_password, "ESME_RINVPASWD"},
    {status::invalid_system_id, "ESME_RINVSYSID"},
    {status::message_queue_full, "ESME_RMSGQFUL"},
    {status::invalid_service_type, "ESME_RINVSERTYP"},
    {status::invalid_esm_class, "ESME_RINVESMCLASS"},
    {status::submit_failed, "ESME_RSUBMITFAIL"},
    {status::invalid_system_type, "ESME_RINVSYSTYP"},
    {status::throttled, "ESME_RTHROTTLED"},
    {status::invalid_schedule_time, "ESME_RINVSCHED"},
    {status::invalid_validity_period, "ESME_RINVEXPIRY"},
    {status::temporary_app_error, "ESME_RX_T_APPN"},
    {status::permanent_app_error, "ESME_RX_P_APPN"},
    {status::reject_message, "ESME_RX_R_APPN"},
    {status::invalid_optional_parameter, "ESME_RINVOPTPARSTREAM"},
    {status::invalid_parameter_length, "ESME_RINVPARLEN"},
    {status::unknown_error, "ESME_RUNKNOWNERR"},
};

}  // namespace

std::string command_name(std::uint32_t id) {
  static constexpr std::pair<std::uint32_t, const char*> kNames[] = {
      {command::bind_receiver, "bind_receiver"},
      {command::bind_transmitter, "bind_transmitter"},
      {command::query_sm, "query_sm"},
      {command::submit_sm, "submit_sm"},
      {command::deliver_sm, "deliver_sm"},
      {command::unbind, "unbind"},
      {command::replace_sm, "replace_sm"},
      {command::cancel_sm, "cancel_sm"},
      {command::bind_transceiver, "bind_transceiver"},
      {command::outbind, "outbind"},
      {command::enquire_link, "enquire_link"},
      {command::submit_multi, "submit_multi"},
      {command::alert_notification, "alert_notification"},
      {command::data_sm, "data_sm"},
  };
  if (id == command::generic_nack) return "generic_nack";
  for (const auto& [request, name] : kNames) {
    if (id == request) return name;
    if (id == (request | command::response_bit)) return std::string(name) + "_resp";
  }
  return {};
}

std::string status_name(std::uint32_t value) {
  for (const auto& entry : kStatusNames)
    if (entry.status == value) return fmt::format("{} (0x{:08x})", entry.name, value);
  return fmt::format("0x{:08x}", value);
}

}  // namespace bh::connectors::sms::smpp
