package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/api/internal/docs"
)

// docsRoutes serves the OpenAPI document and the interactive documentation
// page, without authentication and outside the per-user rate limit: they
// are the same static files for everyone.
func (s *server) docsRoutes(r *gin.Engine) {
	r.GET("/openapi.yaml", gin.WrapH(docs.Spec()))
	r.GET("/docs", gin.WrapH(docs.Page()))
	r.GET("/docs/assets/*file", func(c *gin.Context) {
		if !docs.ServeAsset(c.Writer, c.Request, c.Param("file")) {
			s.problem(c, http.StatusNotFound, "no such file")
		}
	})
}
