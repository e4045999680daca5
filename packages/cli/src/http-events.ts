// The HTTP-request event that access-log imports become: the core's generic type, which the proxy
// profile serves (its name, 'proxy.request', is historical).
export { HTTP_REQUEST_TYPE as PROXY_REQUEST_TYPE, type HttpRequestInput, httpRequestEvent } from '@eventlog/core';
