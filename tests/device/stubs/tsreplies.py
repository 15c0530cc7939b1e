# Replies shaped like api.thingspeak.com's (nginx in front of a Rails app):
# both framings the server has used, Content-Length with Connection: close
# and Transfer-Encoding: chunked, with its usual run of headers.
_COMMON = (b'Date: Mon, 23 Nov 2026 19:58:02 GMT\r\n'
           b'Connection: close\r\n'
           b'Status: %s\r\n'
           b'Cache-Control: max-age=0, private, must-revalidate\r\n'
           b'Access-Control-Allow-Origin: *\r\n'
           b'Access-Control-Max-Age: 1800\r\n'
           b'X-Request-Id: 4c2b9a1e-7d3f-4b8e-9a61-0f2d5c8e7b13\r\n'
           b'Access-Control-Allow-Headers: origin, content-type, X-Requested-With\r\n'
           b'Access-Control-Allow-Methods: GET, POST, PUT, OPTIONS, DELETE, PATCH\r\n'
           b'ETag: W/"6b86b273ff34fce19d6b804eff5a3f57"\r\n'
           b'X-Frame-Options: SAMEORIGIN\r\n')

_REASON = {200: b'OK', 400: b'Bad Request', 401: b'Unauthorized', 404: b'Not Found',
           429: b'Too Many Requests', 500: b'Internal Server Error', 502: b'Bad Gateway'}


def _head(code, ctype, proto=b'HTTP/1.1'):
    status = b'%d %s' % (code, _REASON[code])
    return (proto + b' ' + status + b'\r\n' + b'Content-Type: ' + ctype + b'\r\n'
            + _COMMON % status)


def with_length(body, code=200, ctype=b'text/plain; charset=utf-8'):
    return _head(code, ctype) + b'Content-Length: %d\r\n\r\n' % len(body) + body


def chunked(body, code=200, ctype=b'text/plain; charset=utf-8', sizes=None, ext=b''):
    # sizes: chunk lengths to cut body into (default: one chunk); hex in upper case
    # when ext is given, to cover both spellings.
    out = _head(code, ctype) + b'Transfer-Encoding: chunked\r\n\r\n'
    i = 0
    for n in sizes or [len(body)]:
        size = (b'%X' if ext else b'%x') % n
        out += size + ext + b'\r\n' + body[i:i + n] + b'\r\n'
        i += n
    return out + b'0\r\n\r\n'


def until_close(body, code=200):
    # No length at all: the body ends when the server closes (HTTP/1.0 style).
    return b'HTTP/1.0 %d %s\r\nContent-Type: text/plain\r\n\r\n' % (code, _REASON[code]) + body


ERROR_PAGE = (b'<!DOCTYPE html>\n<html>\n<head>\n  <title>We\'re sorry, but something went '
              b'wrong (500)</title>\n</head>\n<body>\n  <h1>We\'re sorry, but something went '
              b'wrong.</h1>\n</body>\n</html>\n')

FEEDS = (b'{"channel":{"id":1417,"name":"ESP-01 logger","description":"hall",'
         b'"latitude":"0.0","longitude":"0.0","field1":"Temperature","field2":"Humidity",'
         b'"created_at":"2026-01-02T10:00:00Z","updated_at":"2026-11-23T19:57:02Z",'
         b'"last_entry_id":42},"feeds":[{"created_at":"2026-11-23T19:56:02Z","entry_id":41,'
         b'"field1":"21.4","field2":"40"},{"created_at":"2026-11-23T19:57:02Z",'
         b'"entry_id":42,"field1":"21.5","field2":"41"}]}')

LAST = b'{"created_at":"2026-11-23T19:57:02Z","entry_id":42,"field1":"21.5","field2":"41"}'
LAST_FIELD1 = b'{"created_at":"2026-11-23T19:57:02Z","entry_id":42,"field1":"21.5"}'
