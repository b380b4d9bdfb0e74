"""cityrank's benchmark suite: scripts that measure, not tests that pass or fail.

    python -m bench                 # every part, one line per figure, then BENCHMARKS.md
    python -m bench --quick         # the same without the 10-million-fact warehouse
    python -m bench scale           # one part only (prints; writes no report unless --output)

Each part runs in a child process of its own, so the peak memory printed for the part is the
operating system's account of that process (and of the processes it waited for), not an
estimate; inside a part, each figure's peak is the process's high-water mark reset just
before that measurement. Parts that need PostgreSQL start a private embedded server in a
temporary folder, or, when CITYRANK_DATABASE_URL is set, create a scratch database beside the
configured one and drop it afterwards. Nothing here touches a user's CITYRANK_HOME.

The goals are those of issue 12; each figure is reported as met or missed by how much, with
the reason for a miss where the measurement shows it.
"""
