// The body callbacks curl calls for a transfer (on the loop thread): where a
// response body lands (response buffer, text, body sink), the check of its
// head, and the request body read out under the upload cap.
#pragma once

#include <cstddef>

#include <curl/curl.h>

#include "net/transfer.h"

namespace sx::net {

size_t on_body(char* data, size_t size, size_t count, void* transfer);   // CURLOPT_WRITEFUNCTION
size_t on_read(char* out, size_t size, size_t count, void* transfer);    // CURLOPT_READFUNCTION
int on_seek(void* transfer, curl_off_t offset, int origin);             // CURLOPT_SEEKFUNCTION
// Runs check_body once the head of a 2xx body is in (or at its end).
bool judge(Transfer& t);

}  // namespace sx::net
