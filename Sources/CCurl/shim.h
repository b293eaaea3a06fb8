// libcurl for Swift. The option setters and getters are C variadics, which Swift cannot call:
// each argument type gets a typed static inline wrapper.
#ifndef SLIPWAY_CCURL_SHIM_H
#define SLIPWAY_CCURL_SHIM_H

#include <curl/curl.h>

typedef size_t (*slw_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*slw_curl_xferinfo_callback)(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
                                          curl_off_t ultotal, curl_off_t ulnow);

// curl_easy_setopt
static inline CURLcode slw_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode slw_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode slw_easy_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode slw_easy_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode slw_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode slw_easy_setopt_data_callback(CURL *h, CURLoption o, slw_curl_data_callback f) { return curl_easy_setopt(h, o, f); }
static inline CURLcode slw_easy_setopt_xferinfo_callback(CURL *h, slw_curl_xferinfo_callback f) { return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, f); }

// curl_easy_getinfo
static inline CURLcode slw_easy_active_socket(CURL *h, curl_socket_t *s) { return curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, s); }
static inline CURLcode slw_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode slw_easy_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode slw_easy_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode slw_easy_getinfo_string(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode slw_easy_getinfo_pointer(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }

// curl_multi_setopt
static inline CURLMcode slw_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
static inline CURLMcode slw_multi_setopt_pointer(CURLM *m, CURLMoption o, void *v) { return curl_multi_setopt(m, o, v); }

// CURLVERSION_NOW is a macro naming the newest struct this header knows.
static inline curl_version_info_data *slw_curl_version_info(void) { return curl_version_info(CURLVERSION_NOW); }

// Feature bits of curl_version_info, which are macros.
static inline int slw_CURL_VERSION_HTTP2(void)     { return CURL_VERSION_HTTP2; }
static inline int slw_CURL_VERSION_SSL(void)       { return CURL_VERSION_SSL; }
static inline int slw_CURL_VERSION_LIBZ(void)      { return CURL_VERSION_LIBZ; }
static inline int slw_CURL_VERSION_BROTLI(void)    { return CURL_VERSION_BROTLI; }
static inline int slw_CURL_VERSION_ASYNCHDNS(void) { return CURL_VERSION_ASYNCHDNS; }
static inline int slw_CURL_VERSION_THREADSAFE(void){
#ifdef CURL_VERSION_THREADSAFE
    return CURL_VERSION_THREADSAFE;
#else
    return 0;
#endif
}
static inline long slw_CURL_GLOBAL_ALL(void) { return CURL_GLOBAL_ALL; }
static inline long slw_CURLPIPE_MULTIPLEX(void) { return CURLPIPE_MULTIPLEX; }
static inline long slw_CURL_HTTP_VERSION_2TLS(void) { return CURL_HTTP_VERSION_2TLS; }
static inline int slw_CURL_WAIT_POLLIN(void) { return CURL_WAIT_POLLIN; }

#endif
