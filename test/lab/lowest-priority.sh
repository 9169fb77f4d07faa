# lowest-priority.sh (sourced): lowest_priority puts the calling script, and all it starts after, at the lowest CPU
# and I/O priority, for work that goes on in the background while the tests run (prepare.sh --build-in-background).
#
# Nice 19 alone does not yield the CPU: with the kernel's autogroup scheduling (on by default), the CPU is shared
# first between sessions' autogroups, and nice counts only inside one. A Go compile at nice 19 in a session of its
# own took as much CPU as the lab's tests beside it (measured: e2e/up-down 10.6 min against 6.2 warm; with its
# autogroup at 19, 7.6: the compile still fills the tests' idle time). So the session's autogroup is set to nice 19
# too, and only when the script leads its session: in any other it would slow down the session that started it
# (the test run itself). The idle I/O class keeps an unpacking debootstrap off the disk the lab's machines use.
# (Lowering a priority needs no privilege; where the kernel has no autogroups there is no file, and nice is enough.)
lowest_priority() {
  renice -n 19 -p "$$" >/dev/null || true
  ionice -c 3 -p "$$" 2>/dev/null || true
  local sid; sid=$(awk '{print $6}' "/proc/$$/stat")   # (field 6: the session id; a shell's name has no space)
  if [ "$sid" = "$$" ] && [ -e "/proc/$$/autogroup" ]; then echo 19 2>/dev/null > "/proc/$$/autogroup" || true; fi
}
