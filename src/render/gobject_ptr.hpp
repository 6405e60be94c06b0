// Owning pointers to GObjects (Pango layouts, Poppler documents, GMime
// parts, gdk-pixbuf loaders): g_object_unref when they go.
#pragma once

#include <glib-object.h>

#include <memory>

namespace bh::render {

struct GObjectUnref {
  void operator()(void* object) const {
    if (object) g_object_unref(object);
  }
};
template <typename T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

}  // namespace bh::render
