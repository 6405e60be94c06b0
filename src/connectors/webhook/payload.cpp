#include "connectors/webhook/payload.hpp"

#include "connectors/webhook/json.hpp"
#include "connectors/webhook/mime_decode.hpp"
#include "connectors/webhook/mime_walk.hpp"
#include "mail/control_headers.hpp"
#include "mail/header_block.hpp"

namespace bh::connectors::webhook {

std::string webhook_payload(const DeliveryRequest& request, bool include_attachments) {
  const Envelope& envelope = request.envelope();
  std::string_view content = request.content();
  HeaderBlock header(content);
  MailText mail = walk_mime(content, include_attachments);

  JsonWriter json;
  json.reserve(content.size() * 4 / 3 + 1024);
  json.begin_object();
  json.key("id").string(envelope.queue_id);
  json.key("envelope").begin_object();
  json.key("from").string(envelope.sender.text());
  json.key("to").begin_array();
  for (std::size_t index : request.recipients)
    if (index < envelope.recipients.size()) json.string(envelope.recipients[index].address.text());
  json.end_array().end_object();
  if (envelope.tenant.empty())
    json.key("tenant").null();
  else
    json.key("tenant").string(envelope.tenant);

  json.key("headers").begin_array();
  const HeaderField* subject = nullptr;
  for (const HeaderField& field : header.fields()) {
    if (is_control_header(field.name)) continue;
    if (!subject && iequals_ascii(field.name, "Subject")) subject = &field;
    json.begin_array().string(field.name).string(HeaderBlock::unfolded(field.value)).end_array();
  }
  json.end_array();
  if (subject)
    json.key("subject").string(decode_encoded_words(HeaderBlock::unfolded(subject->value)));
  else
    json.key("subject").null();
  json.key("text").string(mail.text);

  json.key("attachments").begin_array();
  for (const Attachment& attachment : mail.attachments) {
    json.begin_object();
    json.key("filename").string(attachment.filename);
    json.key("content_type").string(attachment.content_type);
    std::string& out = json.key("content_base64").raw_value();
    out.push_back('"');  // base64 needs no escaping
    append_base64(out, attachment.data);
    out.push_back('"');
    json.end_object();
  }
  json.end_array();
  json.end_object();
  return json.take();
}

}  // namespace bh::connectors::webhook
