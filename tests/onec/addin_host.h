/*
 * addin_host.h: a stand-in for 1C:Enterprise that loads a Native API add-in the way the
 * platform does. The interfaces are written out here as C structs, laid out as 1C's
 * ComponentBase.h, AddInDefBase.h, IMemoryManager.h and types.h declare them:
 *
 * - a C++ object is a pointer to its vtable; a virtual destructor takes two vtable slots
 *   with the Itanium C++ ABI (Linux) and one with MSVC (1C for Windows);
 * - IComponentBase derives from IInitDoneBase, ILanguageExtenderBase, LocaleBase and
 *   UserLanguageBase in that order: four vtable pointers, and a method of the n-th base
 *   gets `this` pointing at the n-th of them;
 * - `long` is the platform's (64-bit on Linux, 32-bit on Windows), WCHAR_T is char16_t.
 *
 * The host provides what 1C provides: a memory manager (IMemoryManager) that counts what
 * it hands out, so a leak or a double free shows, and an IAddInDefBase whose AddError
 * records the error the add-in raised.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef PITSTOP_ADDIN_HOST_H
#define PITSTOP_ADDIN_HOST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _WIN32
#include <windows.h>
#define DTOR_SLOTS void *dtor;
#define ADDIN_API
#else
#include <dlfcn.h>
#define DTOR_SLOTS                                                                             \
    void *dtor;                                                                                \
    void *dtor_deleting;
#define ADDIN_API
#endif

typedef uint16_t WCHAR_T;

enum {
    VTYPE_EMPTY = 0,
    VTYPE_I4 = 3,
    VTYPE_R8 = 5,
    VTYPE_TM = 7,
    VTYPE_BOOL = 11,
    VTYPE_PWSTR = 22,
    VTYPE_BLOB = 23
};

enum { ADDIN_E_FAIL = 1006 };

typedef struct tVariant {
    union {
        int32_t lVal;
        double dblVal;
        bool bVal;
        struct tm tmVal;
        struct {
            char *pstrVal;
            uint32_t strLen;
        } str;
        struct {
            WCHAR_T *pwstrVal;
            uint32_t wstrLen;
        } wstr;
    };
    uint32_t cbElements;
    uint16_t vt;
} tVariant;

/* ---- the add-in's interfaces ---- */

struct InitDoneVT {
    DTOR_SLOTS
    bool(ADDIN_API *Init)(void *self, void *disp);
    bool(ADDIN_API *setMemManager)(void *self, void *mem);
    long(ADDIN_API *GetInfo)(void *self);
    void(ADDIN_API *Done)(void *self);
};

struct LanguageExtenderVT {
    DTOR_SLOTS
    bool(ADDIN_API *RegisterExtensionAs)(void *self, WCHAR_T **name);
    long(ADDIN_API *GetNProps)(void *self);
    long(ADDIN_API *FindProp)(void *self, const WCHAR_T *name);
    const WCHAR_T *(ADDIN_API *GetPropName)(void *self, long num, long alias);
    bool(ADDIN_API *GetPropVal)(void *self, long num, tVariant *value);
    bool(ADDIN_API *SetPropVal)(void *self, long num, tVariant *value);
    bool(ADDIN_API *IsPropReadable)(void *self, long num);
    bool(ADDIN_API *IsPropWritable)(void *self, long num);
    long(ADDIN_API *GetNMethods)(void *self);
    long(ADDIN_API *FindMethod)(void *self, const WCHAR_T *name);
    const WCHAR_T *(ADDIN_API *GetMethodName)(void *self, long num, long alias);
    long(ADDIN_API *GetNParams)(void *self, long num);
    bool(ADDIN_API *GetParamDefValue)(void *self, long num, long param, tVariant *value);
    bool(ADDIN_API *HasRetVal)(void *self, long num);
    bool(ADDIN_API *CallAsProc)(void *self, long num, tVariant *params, long count);
    bool(ADDIN_API *CallAsFunc)(void *self, long num, tVariant *result, tVariant *params,
                                long count);
};

struct LocaleVT {
    DTOR_SLOTS
    void(ADDIN_API *SetLocale)(void *self, const WCHAR_T *locale);
};

/* IComponentBase: four base subobjects, each a vtable pointer. */
typedef struct Component {
    const struct InitDoneVT *init_done;
    const struct LanguageExtenderVT *language;
    const struct LocaleVT *locale;
    const void *user_language;
} Component;

typedef long (*GetClassObjectFn)(const WCHAR_T *name, Component **component);
typedef long (*DestroyObjectFn)(Component **component);
typedef const WCHAR_T *(*GetClassNamesFn)(void);
typedef int (*SetPlatformCapabilitiesFn)(int capabilities);
typedef int (*GetAttachTypeFn)(void);

/* ---- what the host provides ---- */

typedef struct MemoryManager MemoryManager;
struct MemoryManagerVT {
    DTOR_SLOTS
    bool(ADDIN_API *AllocMemory)(MemoryManager *self, void **memory, unsigned long bytes);
    void(ADDIN_API *FreeMemory)(MemoryManager *self, void **memory);
};
struct MemoryManager {
    const struct MemoryManagerVT *vt;
    atomic_long outstanding; /* blocks handed out and not freed yet */
    atomic_long handed_out;  /* blocks handed out in all */
    atomic_int refuse;       /* while set, AllocMemory fails */
};

static inline bool ADDIN_API host_alloc(MemoryManager *self, void **memory, unsigned long bytes) {
    if (atomic_load(&self->refuse)) {
        *memory = NULL;
        return false;
    }
    *memory = malloc(bytes == 0 ? 1 : bytes);
    if (*memory == NULL) {
        return false;
    }
    atomic_fetch_add(&self->outstanding, 1);
    atomic_fetch_add(&self->handed_out, 1);
    return true;
}

static inline void ADDIN_API host_free(MemoryManager *self, void **memory) {
    if (*memory != NULL) {
        free(*memory);
        *memory = NULL;
        atomic_fetch_sub(&self->outstanding, 1);
    }
}

static const struct MemoryManagerVT memory_manager_vt = {.AllocMemory = host_alloc,
                                                         .FreeMemory = host_free};

static MemoryManager memory_manager = {.vt = &memory_manager_vt};

/* IAddInDefBase: AddError records; the other methods answer as a quiet 1C would. */
typedef struct Connection Connection;
struct ConnectionVT {
    DTOR_SLOTS
    bool(ADDIN_API *AddError)(Connection *self, unsigned short wcode, const WCHAR_T *source,
                              const WCHAR_T *descr, long scode);
    bool(ADDIN_API *Read)(Connection *self, WCHAR_T *name, tVariant *value, long *error,
                          WCHAR_T **description);
    bool(ADDIN_API *Write)(Connection *self, WCHAR_T *name, tVariant *value);
    bool(ADDIN_API *RegisterProfileAs)(Connection *self, WCHAR_T *name);
    bool(ADDIN_API *SetEventBufferDepth)(Connection *self, long depth);
    long(ADDIN_API *GetEventBufferDepth)(Connection *self);
    bool(ADDIN_API *ExternalEvent)(Connection *self, WCHAR_T *source, WCHAR_T *message,
                                   WCHAR_T *data);
    void(ADDIN_API *CleanEventBuffer)(Connection *self);
    bool(ADDIN_API *SetStatusLine)(Connection *self, WCHAR_T *line);
    void(ADDIN_API *ResetStatusLine)(Connection *self);
};
struct Connection {
    const struct ConnectionVT *vt;
    int errors;               /* AddError calls */
    unsigned short wcode;     /* of the last one */
    long scode;
    char source[64];
    char description[4096];   /* UTF-8 */
};

/* ---- UTF-16 <-> UTF-8 ---- */

/* `text` (UTF-8) as a NUL-terminated UTF-16 string (malloc'ed); *units_out its length. */
static inline WCHAR_T *to_utf16(const char *text, uint32_t *units_out) {
    size_t length = strlen(text);
    WCHAR_T *out = malloc((length + 1) * sizeof(WCHAR_T));
    uint32_t n = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p != 0) {
        unsigned long code;
        int extra;
        if (*p < 0x80) {
            code = *p;
            extra = 0;
        } else if ((*p & 0xE0) == 0xC0) {
            code = *p & 0x1F;
            extra = 1;
        } else if ((*p & 0xF0) == 0xE0) {
            code = *p & 0x0F;
            extra = 2;
        } else {
            code = *p & 0x07;
            extra = 3;
        }
        p++;
        for (int i = 0; i < extra && (*p & 0xC0) == 0x80; i++, p++) {
            code = (code << 6) | (*p & 0x3F);
        }
        if (code >= 0x10000) {
            code -= 0x10000;
            out[n++] = (WCHAR_T)(0xD800 + (code >> 10));
            out[n++] = (WCHAR_T)(0xDC00 + (code & 0x3FF));
        } else {
            out[n++] = (WCHAR_T)code;
        }
    }
    out[n] = 0;
    if (units_out != NULL) {
        *units_out = n;
    }
    return out;
}

/* `units` UTF-16 units as NUL-terminated UTF-8 (malloc'ed). */
static inline char *from_utf16(const WCHAR_T *text, size_t units) {
    char *out = malloc(units * 3 + 1);
    size_t n = 0;
    for (size_t i = 0; i < units; i++) {
        unsigned long code = text[i];
        if (code >= 0xD800 && code < 0xDC00 && i + 1 < units && text[i + 1] >= 0xDC00 &&
            text[i + 1] < 0xE000) {
            code = 0x10000 + ((code - 0xD800) << 10) + (text[i + 1] - 0xDC00);
            i++;
        }
        if (code < 0x80) {
            out[n++] = (char)code;
        } else if (code < 0x800) {
            out[n++] = (char)(0xC0 | (code >> 6));
            out[n++] = (char)(0x80 | (code & 0x3F));
        } else if (code < 0x10000) {
            out[n++] = (char)(0xE0 | (code >> 12));
            out[n++] = (char)(0x80 | ((code >> 6) & 0x3F));
            out[n++] = (char)(0x80 | (code & 0x3F));
        } else {
            out[n++] = (char)(0xF0 | (code >> 18));
            out[n++] = (char)(0x80 | ((code >> 12) & 0x3F));
            out[n++] = (char)(0x80 | ((code >> 6) & 0x3F));
            out[n++] = (char)(0x80 | (code & 0x3F));
        }
    }
    out[n] = 0;
    return out;
}

static inline size_t utf16_length(const WCHAR_T *text) {
    size_t n = 0;
    while (text[n] != 0) {
        n++;
    }
    return n;
}

static inline bool ADDIN_API host_add_error(Connection *self, unsigned short wcode,
                                     const WCHAR_T *source, const WCHAR_T *descr, long scode) {
    char *source_text = from_utf16(source, utf16_length(source));
    char *description = from_utf16(descr, utf16_length(descr));
    self->errors++;
    self->wcode = wcode;
    self->scode = scode;
    snprintf(self->source, sizeof self->source, "%s", source_text);
    snprintf(self->description, sizeof self->description, "%s", description);
    free(source_text);
    free(description);
    return true;
}

static inline bool ADDIN_API host_read(Connection *self, WCHAR_T *name, tVariant *value, long *error,
                                WCHAR_T **description) {
    (void)self, (void)name, (void)value, (void)error, (void)description;
    return false;
}
static inline bool ADDIN_API host_write(Connection *self, WCHAR_T *name, tVariant *value) {
    (void)self, (void)name, (void)value;
    return false;
}
static inline bool ADDIN_API host_register_profile(Connection *self, WCHAR_T *name) {
    (void)self, (void)name;
    return true;
}
static inline bool ADDIN_API host_set_depth(Connection *self, long depth) {
    (void)self, (void)depth;
    return true;
}
static inline long ADDIN_API host_get_depth(Connection *self) {
    (void)self;
    return 1;
}
static inline bool ADDIN_API host_event(Connection *self, WCHAR_T *source, WCHAR_T *message,
                                 WCHAR_T *data) {
    (void)self, (void)source, (void)message, (void)data;
    return true;
}
static inline void ADDIN_API host_clean(Connection *self) { (void)self; }
static inline bool ADDIN_API host_status(Connection *self, WCHAR_T *line) {
    (void)self, (void)line;
    return true;
}
static inline void ADDIN_API host_reset_status(Connection *self) { (void)self; }

static const struct ConnectionVT connection_vt = {
    .AddError = host_add_error,
    .Read = host_read,
    .Write = host_write,
    .RegisterProfileAs = host_register_profile,
    .SetEventBufferDepth = host_set_depth,
    .GetEventBufferDepth = host_get_depth,
    .ExternalEvent = host_event,
    .CleanEventBuffer = host_clean,
    .SetStatusLine = host_status,
    .ResetStatusLine = host_reset_status,
};

/* ---- the library as 1C loads it ---- */

typedef struct Library {
    GetClassObjectFn get_class_object;
    DestroyObjectFn destroy_object;
    GetClassNamesFn get_class_names;
    SetPlatformCapabilitiesFn set_platform_capabilities;
    GetAttachTypeFn get_attach_type;
} Library;

/*
 * Find export `name` and store it in the function pointer at `out`. The address comes as
 * an object pointer from dlsym and as a function pointer from GetProcAddress; ISO C
 * converts neither into the other, so it is copied.
 */
static inline bool load_symbol(void *handle, const char *name, void *out) {
#ifdef _WIN32
    FARPROC symbol = GetProcAddress((HMODULE)handle, name);
#else
    void *symbol = dlsym(handle, name);
#endif
    if (symbol == NULL) {
        fprintf(stderr, "the library lacks the export %s\n", name);
        return false;
    }
    memcpy(out, &symbol, sizeof symbol);
    return true;
}

/* Load the library at `path` and find its five exports; false (with a message) if not. */
static inline bool library_load(const char *path, Library *library) {
#ifdef _WIN32
    void *handle = (void *)LoadLibraryA(path);
#else
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
#endif
    if (handle == NULL) {
#ifdef _WIN32
        fprintf(stderr, "cannot load %s: error %lu\n", path, (unsigned long)GetLastError());
#else
        fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
#endif
        return false;
    }
    return load_symbol(handle, "GetClassObject", &library->get_class_object) &&
           load_symbol(handle, "DestroyObject", &library->destroy_object) &&
           load_symbol(handle, "GetClassNames", &library->get_class_names) &&
           load_symbol(handle, "SetPlatformCapabilities", &library->set_platform_capabilities) &&
           load_symbol(handle, "GetAttachType", &library->get_attach_type);
}

/* One add-in object and the host interfaces it was given. */
typedef struct Addin {
    const Library *library;
    Component *component;
    Connection connection;
} Addin;

static inline void *lang_self(Addin *addin) { return (void *)&addin->component->language; }

/*
 * Create an object as 1C does: GetClassObject, setMemManager, Init, GetInfo,
 * RegisterExtensionAs (the name it returns freed as 1C frees it), SetLocale.
 */
static inline Addin *addin_create(const Library *library, const char *class_name) {
    Addin *addin = calloc(1, sizeof *addin);
    addin->library = library;
    addin->connection.vt = &connection_vt;
    WCHAR_T *name = to_utf16(class_name, NULL);
    long created = library->get_class_object(name, &addin->component);
    free(name);
    if (created == 0 || addin->component == NULL) {
        free(addin);
        return NULL;
    }
    Component *c = addin->component;
    c->init_done->setMemManager(c, &memory_manager);
    c->init_done->Init(c, &addin->connection);
    WCHAR_T *extension = NULL;
    if (c->language->RegisterExtensionAs(lang_self(addin), &extension)) {
        memory_manager.vt->FreeMemory(&memory_manager, (void **)&extension);
    }
    WCHAR_T *locale = to_utf16("ru_RU", NULL);
    c->locale->SetLocale((void *)&c->locale, locale);
    free(locale);
    return addin;
}

/* Done, then DestroyObject, as 1C ends an object. */
static inline void addin_destroy(Addin *addin) {
    if (addin == NULL) {
        return;
    }
    addin->component->init_done->Done(addin->component);
    addin->library->destroy_object(&addin->component);
    free(addin);
}

/* A 1C string argument (free it with variant_clear). */
static inline tVariant string_arg(const char *utf8) {
    tVariant value;
    memset(&value, 0, sizeof value);
    value.vt = VTYPE_PWSTR;
    value.wstr.pwstrVal = to_utf16(utf8, &value.wstr.wstrLen);
    return value;
}

/* Free an argument this host made. */
static inline void variant_clear(tVariant *value) {
    if (value->vt == VTYPE_PWSTR) {
        free(value->wstr.pwstrVal);
    }
    value->vt = VTYPE_EMPTY;
}

/*
 * Take a value the add-in returned: its string as UTF-8 (malloc'ed, NULL when not a
 * string), the add-in's memory given back to the memory manager as 1C does.
 */
static inline char *take_result(tVariant *value) {
    char *text = NULL;
    if (value->vt == VTYPE_PWSTR) {
        text = from_utf16(value->wstr.pwstrVal, value->wstr.wstrLen);
        memory_manager.vt->FreeMemory(&memory_manager, (void **)&value->wstr.pwstrVal);
    }
    value->vt = VTYPE_EMPTY;
    return text;
}

static inline long find_method(Addin *addin, const char *name) {
    WCHAR_T *wide = to_utf16(name, NULL);
    long number = addin->component->language->FindMethod(lang_self(addin), wide);
    free(wide);
    return number;
}

static inline long find_prop(Addin *addin, const char *name) {
    WCHAR_T *wide = to_utf16(name, NULL);
    long number = addin->component->language->FindProp(lang_self(addin), wide);
    free(wide);
    return number;
}

/*
 * Call `method` as a function with `count` arguments; returns what CallAsFunc returned
 * and the result string in *result_out (malloc'ed, or NULL).
 */
static inline bool call_func(Addin *addin, const char *method, tVariant *params, long count,
                      char **result_out) {
    tVariant result;
    memset(&result, 0, sizeof result);
    bool done = addin->component->language->CallAsFunc(
        lang_self(addin), find_method(addin, method), &result, params, count);
    char *text = take_result(&result);
    if (result_out != NULL) {
        *result_out = text;
    } else {
        free(text);
    }
    return done;
}

static inline bool call_proc(Addin *addin, const char *method, tVariant *params, long count) {
    return addin->component->language->CallAsProc(lang_self(addin), find_method(addin, method),
                                                  params, count);
}

/* Read property `name` as UTF-8 (malloc'ed), or NULL when GetPropVal failed. */
static inline char *get_prop(Addin *addin, const char *name) {
    tVariant value;
    memset(&value, 0, sizeof value);
    if (!addin->component->language->GetPropVal(lang_self(addin), find_prop(addin, name),
                                                 &value)) {
        return NULL;
    }
    return take_result(&value);
}

/* Call `method` as a function with string arguments (NULL ends the list early). */
static inline char *call_text(Addin *addin, const char *method, const char *first,
                       const char *second) {
    tVariant params[2];
    long count = 0;
    if (first != NULL) {
        params[count++] = string_arg(first);
        if (second != NULL) {
            params[count++] = string_arg(second);
        }
    }
    char *result = NULL;
    call_func(addin, method, params, count, &result);
    for (long i = 0; i < count; i++) {
        variant_clear(&params[i]);
    }
    return result;
}

#endif
