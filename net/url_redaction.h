// URLs and libcurl messages as they may appear in errors and logs: no
// query string (presigned URLs carry their signature there) and no
// "user:password@".
#pragma once

#include <string>

namespace sx::net {

std::string redact_userinfo(std::string text);
std::string url_for_messages(const std::string& url);

}  // namespace sx::net
