// Keeps the client usable across fork(): objects that own locks or threads
// register here, and pthread_atfork handlers call them around every fork.
// Before the fork each observer takes its locks, so the child never inherits
// one held by a thread that does not exist there; after it, the parent
// releases them and the child releases them and resets what it cannot use
// (threads, sockets, the pid).
#ifndef METLOG_CLIENT_FORK_OBSERVER_H_
#define METLOG_CLIENT_FORK_OBSERVER_H_

namespace metlog {

class ForkObserver {
 public:
  virtual ~ForkObserver() = default;

  // In the forking thread, before fork(): take every lock the object owns.
  virtual void BeforeFork() = 0;
  // In the parent after fork(): release them.
  virtual void AfterForkInParent() = 0;
  // In the child after fork(), where only the forking thread exists: release
  // them and mark for re-creation whatever belonged to the parent's threads.
  // Runs inside fork(), so it must not start threads or block.
  virtual void AfterForkInChild() = 0;
};

// Observers are called in registration order before the fork and in reverse
// order after it. Unregister before the observer is destroyed.
void RegisterForkObserver(ForkObserver* observer);
void UnregisterForkObserver(ForkObserver* observer);

// For a lock that is taken while other observers' locks are held (the
// symbolizer's, inside a sender's): locked after every other observer's
// before the fork and released before them after it, whenever it registered,
// so the fork takes locks in the order the code does. Never unregistered.
void RegisterInnermostForkObserver(ForkObserver* observer);

}  // namespace metlog

#endif  // METLOG_CLIENT_FORK_OBSERVER_H_
