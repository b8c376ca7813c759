#include "client/fork_observer.h"

#include <pthread.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "client/fork_safe_clock.h"

namespace metlog {
namespace {

// Leaked on purpose: fork handlers and late-destroyed clients may use the
// registry while static destructors run.
struct Registry {
  std::mutex mu;
  std::vector<ForkObserver*> observers;
  std::vector<ForkObserver*> innermost;  // locked last, released first
};

Registry& TheRegistry() {
  static Registry* const registry = new Registry;
  return *registry;
}

void Prepare() {
  Registry& registry = TheRegistry();
  registry.mu.lock();
  for (ForkObserver* observer : registry.observers) observer->BeforeFork();
  for (ForkObserver* observer : registry.innermost) observer->BeforeFork();
}

void Parent() {
  Registry& registry = TheRegistry();
  for (auto it = registry.innermost.rbegin(); it != registry.innermost.rend();
       ++it) {
    (*it)->AfterForkInParent();
  }
  for (auto it = registry.observers.rbegin(); it != registry.observers.rend();
       ++it) {
    (*it)->AfterForkInParent();
  }
  registry.mu.unlock();
}

void Child() {
  UseForkSafeClock();
  Registry& registry = TheRegistry();
  for (auto it = registry.innermost.rbegin(); it != registry.innermost.rend();
       ++it) {
    (*it)->AfterForkInChild();
  }
  for (auto it = registry.observers.rbegin(); it != registry.observers.rend();
       ++it) {
    (*it)->AfterForkInChild();
  }
  // The forking thread locked it in Prepare() and is the one running here.
  registry.mu.unlock();
}

void InstallForkHandlersOnce() {
  static const int installed = pthread_atfork(Prepare, Parent, Child);
  (void)installed;
}

}  // namespace

void RegisterForkObserver(ForkObserver* observer) {
  InstallForkHandlersOnce();
  Registry& registry = TheRegistry();
  std::lock_guard<std::mutex> lock(registry.mu);
  registry.observers.push_back(observer);
}

void RegisterInnermostForkObserver(ForkObserver* observer) {
  InstallForkHandlersOnce();
  Registry& registry = TheRegistry();
  std::lock_guard<std::mutex> lock(registry.mu);
  registry.innermost.push_back(observer);
}

void UnregisterForkObserver(ForkObserver* observer) {
  Registry& registry = TheRegistry();
  std::lock_guard<std::mutex> lock(registry.mu);
  registry.observers.erase(std::remove(registry.observers.begin(),
                                       registry.observers.end(), observer),
                           registry.observers.end());
}

}  // namespace metlog
