"""The base of xner's own error types: a problem the user can act on (a study file's key, a
flag's value, a data file's line, a saved run that does not merge), whose message says where
and what. The fronts print these as one line; any other exception is a bug and keeps its
traceback. Plain: imported by every layer."""


class XnerError(Exception):
    """A problem in what the user gave xner; the message says where (file, key) and what."""
