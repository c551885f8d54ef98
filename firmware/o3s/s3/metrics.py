"""Counters for `GET /metrics`, rendered in the Prometheus text exposition format (0.0.4).

Owns: requests by operation and status, a request latency histogram, bytes in/out, errors by
S3 code, and the store gauges (objects, versions, log bytes, free bytes) read at scrape time.
Recording a request is a couple of dict updates: no allocation beyond the first time a
(operation, status) pair is seen.
"""

# Latency bucket upper bounds in milliseconds (exposed in seconds, as Prometheus expects).
BUCKETS_MS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


class Metrics:
    def __init__(self):
        self.requests = {}      # (op, status) -> count
        self.errors = {}        # code -> count
        self.hist = [0] * (len(BUCKETS_MS) + 1)
        self.lat_sum_ms = 0
        self.lat_count = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.connections = 0
        self.connections_total = 0

    def record(self, op, status, ms, bytes_in, bytes_out, code=None):
        k = (op, status)
        self.requests[k] = self.requests.get(k, 0) + 1
        if code is not None:
            self.errors[code] = self.errors.get(code, 0) + 1
        i = 0
        n = len(BUCKETS_MS)
        while i < n and ms > BUCKETS_MS[i]:
            i += 1
        self.hist[i] += 1
        self.lat_sum_ms += ms
        self.lat_count += 1
        self.bytes_in += bytes_in
        self.bytes_out += bytes_out

    def render(self, stats=None):
        """The exposition text (bytes). stats: store.stats() or None."""
        out = []
        a = out.append
        a('# HELP o3s_requests_total S3 API requests by operation and HTTP status.\n')
        a('# TYPE o3s_requests_total counter\n')
        keys = sorted(self.requests)
        for op, status in keys:
            a('o3s_requests_total{operation="' + op + '",status="' + str(status) + '"} '
              + str(self.requests[(op, status)]) + '\n')
        a('# HELP o3s_request_duration_seconds S3 API request latency (head received to response sent).\n')
        a('# TYPE o3s_request_duration_seconds histogram\n')
        cum = 0
        for i in range(len(BUCKETS_MS)):
            cum += self.hist[i]
            a('o3s_request_duration_seconds_bucket{le="' + _secs(BUCKETS_MS[i]) + '"} ' + str(cum) + '\n')
        cum += self.hist[-1]
        a('o3s_request_duration_seconds_bucket{le="+Inf"} ' + str(cum) + '\n')
        a('o3s_request_duration_seconds_sum ' + _secs(self.lat_sum_ms) + '\n')
        a('o3s_request_duration_seconds_count ' + str(self.lat_count) + '\n')
        a('# HELP o3s_errors_total S3 error responses by error code.\n')
        a('# TYPE o3s_errors_total counter\n')
        for code in sorted(self.errors):
            a('o3s_errors_total{code="' + code + '"} ' + str(self.errors[code]) + '\n')
        a('# HELP o3s_received_bytes_total Request body bytes received.\n')
        a('# TYPE o3s_received_bytes_total counter\n')
        a('o3s_received_bytes_total ' + str(self.bytes_in) + '\n')
        a('# HELP o3s_sent_bytes_total Response body bytes sent.\n')
        a('# TYPE o3s_sent_bytes_total counter\n')
        a('o3s_sent_bytes_total ' + str(self.bytes_out) + '\n')
        a('# HELP o3s_connections Open client connections.\n')
        a('# TYPE o3s_connections gauge\n')
        a('o3s_connections ' + str(self.connections) + '\n')
        a('# HELP o3s_connections_total Client connections accepted.\n')
        a('# TYPE o3s_connections_total counter\n')
        a('o3s_connections_total ' + str(self.connections_total) + '\n')
        if stats:
            for name, key, kind, text in _GAUGES:
                if key in stats:
                    a('# HELP ' + name + ' ' + text + '\n')
                    a('# TYPE ' + name + ' ' + kind + '\n')
                    a(name + ' ' + str(stats[key]) + '\n')
        return ''.join(out).encode()


_GAUGES = (
    ('o3s_objects', 'total_objects', 'gauge', 'Current (latest, not deleted) objects.'),
    ('o3s_object_versions', 'total_versions', 'gauge', 'Object versions and delete markers kept.'),
    ('o3s_object_bytes', 'object_bytes', 'gauge', 'Bytes of current objects.'),
    ('o3s_log_used_bytes', 'used_space_bytes', 'gauge', 'Bytes written in the log segments in use.'),
    ('o3s_log_live_bytes', 'live_bytes', 'gauge', 'Log bytes still referenced.'),
    ('o3s_log_available_bytes', 'available_space_bytes', 'gauge', 'Bytes the log can still take.'),
    ('o3s_log_segments_free', 'segments_free', 'gauge', 'Free log segments.'),
    ('o3s_corrupt_reads_total', 'corrupt_reads', 'counter', 'Reads refused because a record failed its checks.'),
    ('o3s_compaction_freed_segments_total', 'compaction_freed', 'counter', 'Log segments compaction has freed.'),
)


def _secs(ms):
    s = str(ms // 1000)
    r = ms % 1000
    if r:
        f = str(1000 + r)[1:].rstrip('0')
        s += '.' + f
    return s
