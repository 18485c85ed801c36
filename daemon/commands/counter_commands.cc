// The owner-counter commands' table (docs/counters.md): CTR.INCRBY/INCR/
// DECRBY, ADJUST, GET, ALL, MGET, SET, RESET, RECOUNT, DEL, HISTORY, SUM,
// TOP, OWNERS, CELLS and OWNER.TZ. The handlers are in counter_read_commands.cc
// and counter_write_commands.cc, their shared parsing in counter_args.cc.

#include "commands/counter_commands.h"
#include "commands/registry.h"

namespace tally::commands {
namespace {

using namespace counter;
using protocol::ErrorCode;
namespace flags = protocol::flags;

constexpr uint32_t kWriteFast = flags::kWrite | flags::kFast;
constexpr uint32_t kRead = flags::kReadOnly;

// The errors each handler can reply with (wrong_arity and, for writes,
// storage_failed come on top: protocol::DeclaredErrors). Every one of them
// reads stored state: storage_read_failed.
using enum ErrorCode;
constexpr ErrorCode kIncrByErrors[] = {kInvalidName, kNotInteger, kOverflow, kInvalidTime,
                                       kInvalidId,   kIdConflict, kSyntax,   kStorageReadFailed};
constexpr ErrorCode kAdjustErrors[] = {kInvalidName, kNotInteger,   kOverflow, kInvalidTime,      kInvalidId,
                                       kIdConflict,  kInvalidActor, kSyntax,   kStorageReadFailed};
constexpr ErrorCode kGetErrors[] = {kInvalidName, kInvalidInterval, kInvalidPeriod, kSyntax, kStorageReadFailed};
constexpr ErrorCode kMGetErrors[] = {kInvalidName, kInvalidInterval, kInvalidPeriod, kStorageReadFailed};
constexpr ErrorCode kSetErrors[] = {kInvalidName,  kNotInteger, kInvalidInterval,  kInvalidPeriod,
                                    kInvalidActor, kSyntax,     kStorageReadFailed};
constexpr ErrorCode kResetErrors[] = {kInvalidName,  kInvalidInterval, kInvalidPeriod,
                                      kInvalidActor, kSyntax,          kStorageReadFailed};
constexpr ErrorCode kRecountErrors[] = {kInvalidName,  kNotInteger, kInvalidInterval, kInvalidPeriod,
                                        kInvalidActor, kSyntax,     kWrongArity,      kStorageReadFailed};
constexpr ErrorCode kDelErrors[] = {kInvalidName, kInvalidInterval, kInvalidActor, kSyntax, kStorageReadFailed};
constexpr ErrorCode kHistoryErrors[] = {kInvalidName, kInvalidInterval, kInvalidPeriod,    kNotInteger,
                                        kOutOfRange,  kSyntax,          kStorageReadFailed};
constexpr ErrorCode kSumErrors[] = {kInvalidName, kInvalidInterval, kInvalidPeriod,
                                    kOverflow,    kSyntax,          kStorageReadFailed};
constexpr ErrorCode kTopErrors[] = {kInvalidName, kInvalidInterval, kInvalidPeriod,    kNotInteger,
                                    kOutOfRange,  kSyntax,          kStorageReadFailed};
constexpr ErrorCode kOwnersErrors[] = {kNotInteger, kOutOfRange, kSyntax, kStorageReadFailed};
constexpr ErrorCode kOwnerTzErrors[] = {kInvalidName, kInvalidTimezone, kSyntax, kStorageReadFailed};
constexpr ErrorCode kCellsErrors[] = {kInvalidName, kInvalidInterval, kInvalidPeriod,    kNotInteger,
                                      kOutOfRange,  kSyntax,          kStorageReadFailed};

const protocol::CommandSpec kSpecs[] = {
    {"CTR.INCRBY", -4, kWriteFast, "counter", kIncrBySyntax,
     "Adds delta to the total and to every interval's cell for the event time; replies the new total.", CtrIncrBy,
     kIncrByErrors},
    {"CTR.INCR", -3, kWriteFast, "counter", kIncrSyntax, "CTR.INCRBY with delta 1.", CtrIncr, kIncrByErrors},
    {"CTR.DECRBY", -4, kWriteFast, "counter", kIncrBySyntax, "Subtracts delta (CTR.INCRBY with -delta).", CtrDecrBy,
     kIncrByErrors},
    {"CTR.ADJUST", -4, flags::kWrite, "counter", kAdjustSyntax,
     "Corrects a whole counter: adds delta to the total and to every interval's cell for the AT time (default now), "
     "so all intervals stay consistent; replies the new total. Audited; an ID applies a retry once (as INCRBY).",
     CtrAdjust, kAdjustErrors},
    {"CTR.GET", -3, kRead | flags::kFast, "counter", kGetSyntax, "Value of one cell (default: total); 0 when absent.",
     CtrGet, kGetErrors},
    {"CTR.ALL", -2, kRead, "counter", kAllSyntax, "Every key of an owner with its value in one cell, sorted by key.",
     CtrAll, kGetErrors},
    {"CTR.MGET", -5, kRead, "counter", "key interval period owner [owner ...]", "One cell of a key for several owners.",
     CtrMGet, kMGetErrors},
    {"CTR.SET", -4, flags::kWrite, "counter", kSetSyntax,
     "Sets one cell (a recount); later increments add to it. Audited (AUDIT.READ).", CtrSet, kSetErrors},
    {"CTR.RESET", -3, flags::kWrite, "counter", kResetSyntax, "Sets one cell to 0. Audited.", CtrReset, kResetErrors},
    {"CTR.RECOUNT", -6, flags::kWrite, "counter", kRecountSyntax,
     "Sets several cells in one atomic step: periods of one interval, or with CELLS cells of any intervals (a bad "
     "cell changes nothing). Audited.",
     CtrRecount, kRecountErrors},
    {"CTR.DEL", -3, flags::kWrite, "counter", kDelSyntax,
     "Removes every cell of a counter, or every period of one interval; replies how many existed. Audited.", CtrDel,
     kDelErrors},
    {"CTR.HISTORY", -5, kRead, "counter", kHistorySyntax,
     "The last count periods, newest first, zeros for gaps; WITHSTART adds each period's start (unix ms).", CtrHistory,
     kHistoryErrors},
    {"CTR.SUM", -4, kRead, "counter", kSumSyntax, "Sum of the periods in a range (or of every stored period).", CtrSum,
     kSumErrors},
    {"CTR.TOP", -3, kRead, "counter", kTopSyntax,
     "Owners ranked by one cell, or by the sum of a range of periods (FROM TO), highest first, ties by owner; OFFSET "
     "skips that many (pages).",
     CtrTop, kTopErrors},
    {"CTR.OWNERS", -1, kRead, "counter", "[PREFIX owner-prefix] [CURSOR cursor] [COUNT n]",
     "Pages through owners in name order: [next-cursor, [owner, ...]]; cursor 0 starts and ends.", CtrOwners,
     kOwnersErrors},
    {"OWNER.TZ", -2, flags::kWrite, "counter", kOwnerTzSyntax,
     "Reads or sets the owner's time zone (applies to events from now on).", OwnerTz, kOwnerTzErrors},
    {"CTR.CELLS", -1, kRead, "counter",
     "[PREFIX owner-prefix] [TYPE owner-type] [KEY key] [INTERVAL interval [PERIOD period]] [CURSOR cursor] [COUNT n]",
     "Pages through cells that hold a value, in owner, key, interval, period order (the admin table and export).",
     CtrCells, kCellsErrors},
};

}  // namespace

std::span<const protocol::CommandSpec> CounterCommands() { return kSpecs; }

}  // namespace tally::commands
