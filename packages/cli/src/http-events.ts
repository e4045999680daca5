// The one place the CLI takes the HTTP-request event builder from: when it moves to
// `@eventlog/core` as `httpRequestEvent`, only this line changes.
export { PROXY_REQUEST_TYPE, type ProxyRequestInput as HttpRequestInput, proxyRequestEvent as httpRequestEvent } from '@eventlog/http';
