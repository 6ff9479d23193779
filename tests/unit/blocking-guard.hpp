// For tests of code that must never block: should it block anyway, SIGALRM
// ends the test run after five seconds, as a failure, instead of hanging it.
#pragma once

#include <unistd.h>

namespace natd::test {

class BlockingGuard {
public:
        BlockingGuard() { ::alarm(5); }
        ~BlockingGuard() { ::alarm(0); }
        BlockingGuard(const BlockingGuard&) = delete;
        BlockingGuard& operator=(const BlockingGuard&) = delete;
};

}  // namespace natd::test
