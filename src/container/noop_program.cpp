#include "container/noop_program.hpp"

#include <cstdint>
#include <cstring>
#include <elf.h>
#include <string_view>

namespace capwise::container {
namespace {

// exit_group(0), in each architecture's own encoding.
#if defined(__x86_64__)
constexpr unsigned char kCode[] = {
    0xbf, 0x00, 0x00, 0x00, 0x00, // mov edi, 0
    0xb8, 0xe7, 0x00, 0x00, 0x00, // mov eax, 231 (exit_group)
    0x0f, 0x05,                   // syscall
};
constexpr Elf64_Half kMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr unsigned char kCode[] = {
    0x00, 0x00, 0x80, 0xd2, // mov x0, #0
    0xc8, 0x0b, 0x80, 0xd2, // mov x8, #94 (exit_group)
    0x01, 0x00, 0x00, 0xd4, // svc #0
};
constexpr Elf64_Half kMachine = EM_AARCH64;
#endif

} // namespace

std::string noop_program() {
#if defined(__x86_64__) || defined(__aarch64__)
    // One ELF header, one loadable segment mapping the whole file, the code right after them.
    constexpr std::uint64_t kBase = 0x400000;
    constexpr std::size_t kHeaders = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = kMachine;
    eh.e_version = EV_CURRENT;
    eh.e_entry = kBase + kHeaders;
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 1;
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_flags = PF_R | PF_X;
    ph.p_vaddr = ph.p_paddr = kBase;
    ph.p_filesz = ph.p_memsz = kHeaders + sizeof(kCode);
    ph.p_align = 0x1000;
    std::string image;
    image.append(reinterpret_cast<const char*>(&eh), sizeof(eh));
    image.append(reinterpret_cast<const char*>(&ph), sizeof(ph));
    image.append(reinterpret_cast<const char*>(kCode), sizeof(kCode));
    return image;
#else
    return {};
#endif
}

} // namespace capwise::container
