"""psutil-scan.py: what a psutil-based scanner reads for every process (pid, ppid, status, cmdline,
environ), timed inside Python so its own start-up can be told apart. Prints: processes milliseconds."""
import time

t0 = time.perf_counter()
import psutil  # noqa: E402  (the import is part of what a scanner pays)

n = 0
for p in psutil.process_iter(['pid', 'ppid', 'status', 'cmdline', 'environ']):
    n += 1
print(n, round((time.perf_counter() - t0) * 1000, 3))
