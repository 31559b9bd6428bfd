// sxengine._sxengine: sx::Storage for Python (docs/PYTHON.md). The one
// translation unit that includes pybind11.
//
// Every transfer runs on a thread of its own with the GIL released while the
// calling thread waits in 50 ms steps, taking the GIL between them only to
// run Python's signal handlers (PyErr_CheckSignals): Ctrl-C raises
// KeyboardInterrupt there, which cancels the transfer (Storage::cancel() is
// thread-safe) and is re-raised once it has stopped, its temp file removed.
// Progress events wait while that check runs and until its cancel is in
// place, so whatever a handler releases (a callback waiting for it) cannot
// let the transfer run past the Ctrl-C (the engine's event queue is bounded).
#include <pybind11/pybind11.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "sx/progress.h"
#include "sx/storage.h"

namespace py = pybind11;

namespace {

// The exception classes, created once when the module is imported; they live
// as long as the interpreter (module state would be the same pointers).
struct ErrorTypes {
  PyObject* base = nullptr;
  PyObject* by_code[8] = {};
};
ErrorTypes error_types;

PyObject* error_type_for(sx::Errc code) {
  const auto i = static_cast<std::size_t>(code);
  return i < std::size(error_types.by_code) && error_types.by_code[i] ? error_types.by_code[i] : error_types.base;
}

[[noreturn]] void raise_error(const sx::Error& error) {
  PyObject* type = error_type_for(error.code);
  py::object exc = py::reinterpret_borrow<py::object>(type)(error.message);
  exc.attr("code") = std::string(sx::errc_name(error.code));
  PyErr_SetObject(type, exc.ptr());
  throw py::error_already_set();
}

[[noreturn]] void raise_usage(const std::string& message) {
  raise_error(sx::Error{sx::Errc::kInvalidArgument, message});
}

// Paths as the OS sees them: str, bytes or os.PathLike, via os.fsencode
// (undecodable names round-trip through surrogateescape).
std::string fs_path(const py::handle& path) {
  return py::bytes(py::module_::import("os").attr("fsencode")(path)).cast<std::string>();
}
py::object fs_decode(const std::string& path) {
  return py::module_::import("os").attr("fsdecode")(py::bytes(path));
}

// Forwards progress events to a Python callable as dicts. Called from the
// engine's threads: each call takes the GIL. The first exception the callable
// raises cancels the transfer and is re-raised by the waiting call.
class ProgressBridge final : public sx::ProgressSink {
 public:
  explicit ProgressBridge(py::object callback) : callback_(std::move(callback)) {}
  ~ProgressBridge() override {
    py::gil_scoped_acquire gil;
    callback_ = py::object();
  }

  void attach(sx::Storage* storage) { storage_ = storage; }

  // While held, events wait (before taking the GIL) instead of reaching the
  // callable: the waiting thread holds them across its signal check.
  void hold() {
    std::lock_guard lock(gate_mutex_);
    held_ = true;
  }
  void release() {
    {
      std::lock_guard lock(gate_mutex_);
      held_ = false;
    }
    gate_.notify_all();
  }

  void on_start(std::string_view operation, std::uint64_t total_bytes, std::uint64_t pieces) override {
    emit([&] { return py::dict(py::arg("event") = "start", py::arg("operation") = std::string(operation),
                               py::arg("total_bytes") = total_bytes, py::arg("pieces") = pieces); });
  }
  void on_piece(std::uint64_t index, std::uint64_t bytes) override {
    emit([&] { return py::dict(py::arg("event") = "piece", py::arg("index") = index, py::arg("bytes") = bytes); });
  }
  void on_retry(std::string_view url, int attempt, std::string_view reason) override {
    emit([&] {
      return py::dict(py::arg("event") = "retry", py::arg("url") = std::string(url), py::arg("attempt") = attempt,
                      py::arg("reason") = std::string(reason));
    });
  }
  void on_finish(std::uint64_t bytes, double seconds, long retries) override {
    emit([&] {
      return py::dict(py::arg("event") = "finish", py::arg("bytes") = bytes, py::arg("seconds") = seconds,
                      py::arg("retries") = retries);
    });
  }
  void on_resume(std::string_view operation, std::uint64_t done, std::uint64_t total) override {
    emit([&] {
      return py::dict(py::arg("event") = "resume", py::arg("operation") = std::string(operation),
                      py::arg("done") = done, py::arg("files") = total);
    });
  }
  void on_note(std::string_view text) override {
    emit([&] { return py::dict(py::arg("event") = "note", py::arg("message") = std::string(text)); });
  }
  void on_file(std::string_view path, std::uint64_t bytes, std::uint64_t done, std::uint64_t total) override {
    emit([&] {
      return py::dict(py::arg("event") = "file", py::arg("path") = fs_decode(std::string(path)),
                      py::arg("bytes") = bytes, py::arg("done") = done, py::arg("files") = total);
    });
  }

  // The callable's first exception, once (the GIL held).
  std::optional<py::error_already_set> take_error() {
    std::lock_guard lock(mutex_);
    return std::exchange(error_, std::nullopt);
  }

 private:
  template <class MakeEvent>
  void emit(MakeEvent&& make_event) {
    {
      std::unique_lock lock(gate_mutex_);
      gate_.wait(lock, [this] { return !held_; });
    }
    bool failed = false;
    {
      py::gil_scoped_acquire gil;
      {
        std::lock_guard lock(mutex_);
        if (error_) return;  // cancelled already: no more calls
      }
      try {
        callback_(make_event());
      } catch (py::error_already_set& e) {
        std::lock_guard lock(mutex_);
        error_ = std::move(e);
        failed = true;
      }
    }
    if (failed && storage_) storage_->cancel();  // without the GIL: cancel may wait on the engine's lock
  }

  py::object callback_;
  sx::Storage* storage_ = nullptr;
  std::mutex mutex_;  // guards error_
  std::optional<py::error_already_set> error_;
  std::mutex gate_mutex_;  // guards held_
  std::condition_variable gate_;
  bool held_ = false;
};

// The keyword arguments of Storage(), checked as the CLI checks its options.
class OptionReader {
 public:
  explicit OptionReader(sx::Options& options) : o_(options) {}

  void read(const std::string& name, const py::handle& value) {
    if (name == "backend") o_.backend = text(name, value);
    else if (name == "backends") o_.backends = texts(name, value);
    else if (name == "parity") o_.parity = integer<int>(name, value, 0, 15);
    else if (name == "allow_private_addresses") o_.allow_private_addresses = flag(name, value);
    else if (name == "piece_size") o_.piece_bytes = integer<std::size_t>(name, value, 1024, std::size_t{255} << 20);
    else if (name == "width") o_.width = integer<std::uint32_t>(name, value, 1, 16384);
    else if (name == "height") o_.height = integer<std::uint32_t>(name, value, 1, 16384);
    else if (name == "parallel") o_.parallel = integer<int>(name, value, 1, 1024);
    else if (name == "workers") o_.workers = integer<int>(name, value, 0, 256);
    else if (name == "level") o_.deflate_level = integer<int>(name, value, 0, 12);
    else if (name == "retries") o_.retries = integer<int>(name, value, 0, 100);
    else if (name == "stall_timeout") o_.stall_timeout_s = integer<int>(name, value, 1, 3600);
    else if (name == "connect_timeout") o_.connect_timeout_s = integer<int>(name, value, 1, 600);
    else if (name == "request_timeout") o_.request_timeout_s = integer<int>(name, value, 1, 86400);
    else if (name == "bwlimit") o_.bwlimit_bytes_per_s = integer<std::uint64_t>(name, value, 0, UINT64_MAX);
    else if (name == "insecure") o_.insecure = flag(name, value);
    else if (name == "cacert") o_.cacert = fs_path(value);
    else if (name == "capath") o_.capath = fs_path(value);
    else if (name == "proxy") o_.proxy = text(name, value);
    else if (name == "http1_only") o_.http1_only = flag(name, value);
    else if (name == "endpoint") o_.endpoint = text(name, value);
    else if (name == "acl") o_.acl = text(name, value);
    else if (name == "s3_sign_payload") o_.s3_sign_payload = flag(name, value);
    else if (name == "force") o_.force = flag(name, value);
    else if (name == "fsync") o_.fsync = flag(name, value);
    else if (name == "resume") o_.resume = flag(name, value);
    else if (name == "encrypt") o_.encrypt = flag(name, value);
    else if (name == "sha256") o_.record_sha256 = flag(name, value);
    else if (name == "passphrase") o_.passphrase = text(name, value);
    else if (name == "compress") o_.compress = compress(name, value);
    else if (name == "follow_symlinks") o_.follow_symlinks = flag(name, value);
    else if (name == "include") o_.include = texts(name, value);
    else if (name == "exclude") o_.exclude = texts(name, value);
    else throw py::type_error("Storage() got an unexpected keyword argument '" + name + "'");
  }

  void check() const {
    if ((o_.width == 0) != (o_.height == 0)) raise_usage("width and height go together: give both or neither");
    if (!o_.backends.empty() && !o_.backend.empty()) raise_usage("give backend= or backends=[...], not both");
    if (o_.backends.size() > 16) raise_usage("backends= takes at most 16 backends");
    if (!o_.passphrase.empty() && !o_.encrypt) raise_usage("passphrase needs encrypt=True");
  }

 private:
  static std::string text(const std::string& name, const py::handle& value) {
    if (!py::isinstance<py::str>(value)) throw py::type_error("Storage(" + name + "=...) must be a str");
    return value.cast<std::string>();
  }
  // A list (or tuple) of str: several backends, as --backend given again.
  static std::vector<std::string> texts(const std::string& name, const py::handle& value) {
    if (!py::isinstance<py::list>(value) && !py::isinstance<py::tuple>(value))
      throw py::type_error("Storage(" + name + "=...) must be a list of str");
    std::vector<std::string> out;
    for (const py::handle item : value) out.push_back(text(name, item));
    return out;
  }
  static bool flag(const std::string& name, const py::handle& value) {
    if (!py::isinstance<py::bool_>(value)) throw py::type_error("Storage(" + name + "=...) must be a bool");
    return value.cast<bool>();
  }
  template <class T>
  static T integer(const std::string& name, const py::handle& value, unsigned long long low,
                   unsigned long long high) {
    if (!py::isinstance<py::int_>(value) || py::isinstance<py::bool_>(value))
      throw py::type_error("Storage(" + name + "=...) must be an int");
    const std::string range = " is out of range [" + std::to_string(low) + ", " + std::to_string(high) + "]";
    const long long n = PyLong_AsLongLong(value.ptr());
    if (n == -1 && PyErr_Occurred()) {  // past 64 bits
      PyErr_Clear();
      raise_usage(name + "=" + py::str(value).cast<std::string>() + range);
    }
    if (n < 0 || static_cast<unsigned long long>(n) < low || static_cast<unsigned long long>(n) > high)
      raise_usage(name + "=" + std::to_string(n) + range);
    return static_cast<T>(n);
  }
  static sx::Options::Compress compress(const std::string& name, const py::handle& value) {
    const std::string v = text(name, value);
    if (v == "auto") return sx::Options::Compress::kAuto;
    if (v == "none") return sx::Options::Compress::kNone;
    if (v == "zstd") return sx::Options::Compress::kZstd;
    raise_usage("compress='" + v + "': use 'auto', 'none' or 'zstd'");
  }

  sx::Options& o_;
};

// name=None or a str (the file name recorded in the manifest).
std::string optional_name(const py::object& name) {
  if (name.is_none()) return {};
  if (!py::isinstance<py::str>(name)) throw py::type_error("name must be a str or None");
  return name.cast<std::string>();
}

py::object json_loads(const std::string& text) { return py::module_::import("json").attr("loads")(text); }

class PyStorage {
 public:
  explicit PyStorage(const py::kwargs& kwargs) {
    sx::Options options;
    OptionReader reader(options);
    for (auto item : kwargs) {
      const std::string name = item.first.cast<std::string>();
      if (name == "progress") {
        if (!item.second.is_none()) {
          if (!PyCallable_Check(item.second.ptr())) throw py::type_error("Storage(progress=...) must be callable");
          progress_ = std::make_unique<ProgressBridge>(py::reinterpret_borrow<py::object>(item.second));
        }
        continue;
      }
      reader.read(name, item.second);
    }
    reader.check();
    options.progress = progress_.get();
    storage_ = std::make_unique<sx::Storage>(std::move(options));
    if (progress_) progress_->attach(storage_.get());
  }

  // A path, or a list of paths (one tree key); a directory is a tree too.
  py::object upload(const py::object& path, const py::object& name) {
    const std::string n = optional_name(name);
    if (py::isinstance<py::list>(path) || py::isinstance<py::tuple>(path)) {
      std::vector<std::string> paths;
      for (const py::handle item : path) paths.push_back(fs_path(py::reinterpret_borrow<py::object>(item)));
      return py::str(run<std::string>([&] { return storage_->upload(paths, n); }));
    }
    const std::string p = fs_path(path);
    return py::str(run<std::string>([&] { return storage_->upload(p, n); }));
  }

  // A tree key's entries (a file key: its one file), as `sxengine ls --json`.
  py::list list(const std::string& key) {
    const std::vector<sx::TreeItem> items = run<std::vector<sx::TreeItem>>([&] { return storage_->list(key); });
    py::list out;
    for (const sx::TreeItem& i : items) {
      py::dict entry(py::arg("path") = fs_decode(i.path), py::arg("type") = i.type, py::arg("mode") = i.mode,
                     py::arg("mtime_ns") = i.mtime_ns, py::arg("size") = i.size);
      if (i.type == "link") entry["target"] = fs_decode(i.target);
      out.append(std::move(entry));
    }
    return out;
  }

  py::object download(const std::string& key, const py::object& out) {
    const std::string o = out.is_none() ? std::string() : fs_path(out);
    return fs_decode(run<std::string>([&] { return storage_->download(key, o); }));
  }

  py::dict info(const std::string& key) {
    const sx::FileInfo i = run<sx::FileInfo>([&] { return storage_->info(key); });
    return py::dict(py::arg("name") = i.name, py::arg("size") = i.size, py::arg("sha256") = i.sha256,
                    py::arg("digest") = i.digest, py::arg("pieces") = i.pieces, py::arg("piece_size") = i.piece_bytes,
                    py::arg("width") = i.width, py::arg("height") = i.height, py::arg("format") = i.format,
                    py::arg("manifest_levels") = i.manifest_levels, py::arg("encryption") = i.encryption,
                    py::arg("stripe_data") = i.stripe_data, py::arg("stripe_parity") = i.stripe_parity,
                    py::arg("stripes") = i.stripes, py::arg("manifest_copies") = i.manifest_copies,
                    py::arg("entries") = i.entries, py::arg("files") = i.files);
  }

  py::dict verify(const std::string& key, bool sha256) {
    const sx::VerifyReport r = run<sx::VerifyReport>([&] { return storage_->verify(key, sha256); });
    py::list problems;
    for (const sx::PieceProblem& p : r.problems)
      problems.append(py::dict(py::arg("index") = p.index, py::arg("url") = p.url,
                               py::arg("code") = std::string(sx::errc_name(p.code)), py::arg("message") = p.message,
                               py::arg("parity") = p.parity));
    py::list backends;
    for (const sx::BackendHealth& h : r.backends)
      backends.append(py::dict(py::arg("slot") = h.slot, py::arg("host") = h.host, py::arg("present") = h.present,
                               py::arg("missing") = h.missing, py::arg("corrupt") = h.corrupt));
    py::list unrecoverable;
    for (const std::uint64_t stripe : r.unrecoverable_stripes) unrecoverable.append(stripe);
    return py::dict(py::arg("ok") = r.ok(), py::arg("pieces") = r.pieces, py::arg("bytes") = r.bytes,
                    py::arg("manifest_levels") = r.manifest_levels, py::arg("problems") = problems,
                    py::arg("digest") = r.digest, py::arg("digest_checked") = r.digest_checked,
                    py::arg("digest_matches") = r.digest_matches, py::arg("sha256") = r.sha256,
                    py::arg("stripe_data") = r.stripe_data, py::arg("stripe_parity") = r.stripe_parity,
                    py::arg("stripes") = r.stripes, py::arg("backends") = backends,
                    py::arg("unrecoverable_stripes") = unrecoverable, py::arg("recoverable") = r.recoverable(),
                    py::arg("manifest_copies") = r.manifest_copies, py::arg("manifest_copies_ok") = r.manifest_copies_ok);
  }

  py::dict repair(const std::string& key, const py::object& backend) {
    const std::string b = backend.is_none() ? std::string() : backend.cast<std::string>();
    const sx::RepairReport r = run<sx::RepairReport>([&] { return storage_->repair(key, b); });
    return py::dict(py::arg("key") = r.key, py::arg("key_changed") = r.key_changed,
                    py::arg("data_pieces") = r.data_pieces, py::arg("parity_pieces") = r.parity_pieces,
                    py::arg("manifest_copies") = r.manifest_copies, py::arg("stripes") = r.stripes);
  }

  py::dict remove(const std::string& key, bool force) {
    const sx::RemoveReport r = run<sx::RemoveReport>([&] { return storage_->remove(key, force); });
    py::list skipped;
    for (const std::string& why : r.skipped) skipped.append(why);
    return py::dict(py::arg("objects") = r.objects, py::arg("removed") = r.removed,
                    py::arg("already_gone") = r.already_gone, py::arg("skipped") = skipped);
  }

  py::tuple upload_storagex_v1(const py::object& path, const py::object& name) {
    const std::string p = fs_path(path);
    const std::string n = optional_name(name);
    sx::StoragexUpload up = run<sx::StoragexUpload>([&] { return storage_->upload_storagex_v1(p, n); });
    return py::make_tuple(up.key, json_loads(up.meta_json));
  }

  py::object storagex_meta(const std::string& key) {
    return json_loads(run<std::string>([&] { return storage_->storagex_meta(key); }));
  }

  void cancel() {
    py::gil_scoped_release nogil;
    storage_->cancel();
  }

 private:
  // Runs `operation` on a thread of its own; see the comment at the top.
  template <class T>
  T run(const std::function<sx::Result<T>()>& operation) {
    if (busy_.exchange(true)) raise_usage("this Storage is running another operation: use one Storage per thread");
    struct Busy {
      std::atomic<bool>& flag;
      ~Busy() { flag = false; }
    } busy{busy_};

    std::mutex mutex;  // guards result
    std::condition_variable finished;
    std::optional<sx::Result<T>> result;
    std::thread worker([&] {
      sx::Result<T> r = operation();
      std::lock_guard lock(mutex);
      result.emplace(std::move(r));
      finished.notify_one();
    });
    const auto wait = [&](std::optional<std::chrono::milliseconds> step) {
      py::gil_scoped_release nogil;
      std::unique_lock lock(mutex);
      if (step) return finished.wait_for(lock, *step, [&] { return result.has_value(); });
      finished.wait(lock, [&] { return result.has_value(); });
      return true;
    };
    while (!wait(std::chrono::milliseconds(50))) {
      if (progress_) progress_->hold();
      if (PyErr_CheckSignals() != 0) {  // KeyboardInterrupt (or another handler's exception) is set
        py::error_already_set interrupted;
        cancel();
        if (progress_) progress_->release();
        wait(std::nullopt);
        worker.join();
        throw interrupted;
      }
      if (progress_) progress_->release();
    }
    worker.join();
    if (progress_)
      if (auto error = progress_->take_error()) throw std::move(*error);
    if (!*result) raise_error(result->error());
    return std::move(*result).value();
  }

  std::unique_ptr<ProgressBridge> progress_;  // before storage_: it outlives the Storage that calls it
  std::unique_ptr<sx::Storage> storage_;
  std::atomic<bool> busy_{false};
};

PyObject* new_error_type(py::module_& m, const char* name, PyObject* base, const char* doc) {
  const std::string qualified = std::string("sxengine.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, base, nullptr);
  if (!type) throw py::error_already_set();
  m.add_object(name, py::handle(type));
  return type;
}

}  // namespace

PYBIND11_MODULE(_sxengine, m) {
  m.doc() = "sxengine: store files as PNG pieces on local, HTTP, S3 and image-host backends";
  m.attr("__version__") = SX_VERSION;

  PyObject* base = new_error_type(m, "Error", PyExc_Exception,
                                  "An sxengine operation failed; str(e) is the engine's one-line message, "
                                  "e.code its kind ('not found', 'corrupt', ...).");
  error_types.base = base;
  const auto set = [&](sx::Errc code, const char* name, const char* doc) {
    error_types.by_code[static_cast<std::size_t>(code)] = new_error_type(m, name, base, doc);
  };
  set(sx::Errc::kInvalidArgument, "UsageError", "Bad options or arguments: fix them, never retried.");
  set(sx::Errc::kNotFound, "NotFoundError", "A key, piece, file or object that does not exist.");
  set(sx::Errc::kIo, "LocalIOError", "The local file system failed (disk full, permissions).");
  set(sx::Errc::kCancelled, "CancelledError", "The operation was cancelled.");
  set(sx::Errc::kCorrupt, "CorruptError", "Corrupt data, a wrong key or passphrase, a refused object.");
  set(sx::Errc::kDenied, "AuthError", "The server refused the credentials (401/403).");
  set(sx::Errc::kTransient, "NetworkError", "The network or server failed after every retry.");
  set(sx::Errc::kLimit, "LimitError", "A configured bound (size, dimensions, memory) was exceeded.");

  py::class_<PyStorage>(m, "Storage")
      .def(py::init<const py::kwargs&>())
      .def("upload", &PyStorage::upload, py::arg("path"), py::arg("name") = py::none())
      .def("download", &PyStorage::download, py::arg("key"), py::arg("out") = py::none())
      .def("info", &PyStorage::info, py::arg("key"))
      .def("list", &PyStorage::list, py::arg("key"))
      .def("verify", &PyStorage::verify, py::arg("key"), py::arg("sha256") = false)
      .def("remove", &PyStorage::remove, py::arg("key"), py::arg("force") = false)
      .def("repair", &PyStorage::repair, py::arg("key"), py::arg("backend") = py::none())
      .def("upload_storagex_v1", &PyStorage::upload_storagex_v1, py::arg("path"), py::arg("name") = py::none())
      .def("storagex_meta", &PyStorage::storagex_meta, py::arg("key"))
      .def("cancel", &PyStorage::cancel);

  m.def("version", [] { return sx::version_text(); });
}
