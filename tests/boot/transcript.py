"""A pexpect `logfile_read` sink that keeps a console's output in a list, for failure messages."""


class Transcript:
    def __init__(self, sink):
        self.sink = sink

    def write(self, s):
        self.sink.append(s)

    def flush(self):
        pass
