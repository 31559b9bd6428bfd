// Turns an HTTP error body into a short detail for a one-line message.
#pragma once

#include <string>
#include <string_view>

namespace sx::net {

// " (Code: Message)" from an S3 XML error body, " (error text)" from a JSON
// {"error": ...} body, else empty. Bounded; never echoes whole pages.
std::string describe_error_body(std::string_view body);

// The S3 error Code element of an XML body, or empty.
std::string s3_error_code(std::string_view body);

}  // namespace sx::net
