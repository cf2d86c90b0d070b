#include "core/seccomp_verdict.hpp"

#include <cstddef>
#include <cstring>
#include <fmt/format.h>

namespace capwise::core {
namespace {

// The 32-bit word of seccomp_data at a byte offset (aligned, in range), as BPF_LD|BPF_ABS reads.
bool load_word(const seccomp_data& data, std::uint32_t offset, std::uint32_t& out) {
    if (offset % 4 != 0 || offset + 4 > sizeof(seccomp_data)) {
        return false;
    }
    std::memcpy(&out, reinterpret_cast<const unsigned char*>(&data) + offset, 4);
    return true;
}

bool alu(std::uint16_t op, std::uint32_t& a, std::uint32_t operand) {
    switch (op) {
    case BPF_ADD:
        a += operand;
        return true;
    case BPF_SUB:
        a -= operand;
        return true;
    case BPF_MUL:
        a *= operand;
        return true;
    case BPF_DIV:
        if (operand == 0) {
            return false;
        }
        a /= operand;
        return true;
    case BPF_MOD:
        if (operand == 0) {
            return false;
        }
        a %= operand;
        return true;
    case BPF_AND:
        a &= operand;
        return true;
    case BPF_OR:
        a |= operand;
        return true;
    case BPF_XOR:
        a ^= operand;
        return true;
    case BPF_LSH:
        a = operand >= 32 ? 0 : a << operand;
        return true;
    case BPF_RSH:
        a = operand >= 32 ? 0 : a >> operand;
        return true;
    case BPF_NEG:
        a = 0 - a;
        return true;
    default:
        return false;
    }
}

} // namespace

std::uint32_t seccomp_verdict(const std::vector<sock_filter>& filter, const seccomp_data& data) {
    constexpr std::uint32_t kInvalid = SECCOMP_RET_KILL_PROCESS;
    std::uint32_t a = 0, x = 0;
    std::uint32_t mem[BPF_MEMWORDS] = {};
    // Jumps only go forward, so the walk ends within filter.size() steps.
    for (std::size_t pc = 0; pc < filter.size(); ++pc) {
        const sock_filter& insn = filter[pc];
        const std::uint16_t code = insn.code;
        switch (BPF_CLASS(code)) {
        case BPF_LD:
            if (code == (BPF_LD | BPF_W | BPF_ABS)) {
                if (!load_word(data, insn.k, a)) {
                    return kInvalid;
                }
            } else if (code == (BPF_LD | BPF_W | BPF_LEN)) {
                a = sizeof(seccomp_data);
            } else if (code == (BPF_LD | BPF_IMM)) {
                a = insn.k;
            } else if (code == (BPF_LD | BPF_MEM) && insn.k < BPF_MEMWORDS) {
                a = mem[insn.k];
            } else {
                return kInvalid;
            }
            break;
        case BPF_LDX:
            if (code == (BPF_LDX | BPF_W | BPF_LEN)) {
                x = sizeof(seccomp_data);
            } else if (code == (BPF_LDX | BPF_IMM)) {
                x = insn.k;
            } else if (code == (BPF_LDX | BPF_MEM) && insn.k < BPF_MEMWORDS) {
                x = mem[insn.k];
            } else {
                return kInvalid;
            }
            break;
        case BPF_ST:
        case BPF_STX:
            if (insn.k >= BPF_MEMWORDS) {
                return kInvalid;
            }
            mem[insn.k] = BPF_CLASS(code) == BPF_ST ? a : x;
            break;
        case BPF_ALU:
            if (!alu(BPF_OP(code), a, BPF_SRC(code) == BPF_X ? x : insn.k)) {
                return kInvalid;
            }
            break;
        case BPF_JMP: {
            std::size_t offset = 0;
            const std::uint32_t operand = BPF_SRC(code) == BPF_X ? x : insn.k;
            switch (BPF_OP(code)) {
            case BPF_JA:
                offset = insn.k;
                break;
            case BPF_JEQ:
                offset = a == operand ? insn.jt : insn.jf;
                break;
            case BPF_JGT:
                offset = a > operand ? insn.jt : insn.jf;
                break;
            case BPF_JGE:
                offset = a >= operand ? insn.jt : insn.jf;
                break;
            case BPF_JSET:
                offset = (a & operand) != 0 ? insn.jt : insn.jf;
                break;
            default:
                return kInvalid;
            }
            if (pc + 1 + offset >= filter.size()) {
                return kInvalid;
            }
            pc += offset;
            break;
        }
        case BPF_RET:
            if (BPF_RVAL(code) == BPF_A) {
                return a;
            }
            if (BPF_RVAL(code) == BPF_K) {
                return insn.k;
            }
            return kInvalid;
        case BPF_MISC:
            if (BPF_MISCOP(code) == BPF_TAX) {
                x = a;
            } else if (BPF_MISCOP(code) == BPF_TXA) {
                a = x;
            } else {
                return kInvalid;
            }
            break;
        default:
            return kInvalid;
        }
    }
    return kInvalid;
}

bool seccomp_allows(std::uint32_t verdict) {
    const std::uint32_t action = verdict & SECCOMP_RET_ACTION_FULL;
    return action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG;
}

std::string seccomp_verdict_text(std::uint32_t verdict) {
    const std::uint32_t action = verdict & SECCOMP_RET_ACTION_FULL;
    const std::uint32_t data = verdict & SECCOMP_RET_DATA;
    switch (action) {
    case SECCOMP_RET_KILL_PROCESS:
        return "kills the process (SIGSYS)";
    case SECCOMP_RET_KILL_THREAD:
        return "kills the thread (SIGSYS)";
    case SECCOMP_RET_TRAP:
        return "raises SIGSYS";
    case SECCOMP_RET_ERRNO: {
        const char* name = ::strerrorname_np(static_cast<int>(data));
        return name != nullptr ? fmt::format("returns {}", name)
                               : fmt::format("returns error {}", data);
    }
    case SECCOMP_RET_USER_NOTIF:
        return "waits for a notification listener (none: ENOSYS)";
    case SECCOMP_RET_TRACE:
        return "waits for a tracer (none: ENOSYS)";
    case SECCOMP_RET_LOG:
        return "is allowed and logged";
    case SECCOMP_RET_ALLOW:
        return "is allowed";
    default:
        return fmt::format("returns the unknown action {:#x}", verdict);
    }
}

} // namespace capwise::core
